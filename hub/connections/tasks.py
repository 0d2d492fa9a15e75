"""Celery tasks: thin, taking ids, calling plain functions in ``vault``."""

from __future__ import annotations

from celery import shared_task

from hub.connections import vault


@shared_task(name="hub.connections.tasks.refresh_expiring")
def refresh_expiring() -> int:
    """Enqueue one refresh per connection whose token expires soon."""
    ids = vault.refresh_due()
    for connection_id in ids:
        refresh_connection.delay(connection_id)
    return len(ids)


@shared_task(name="hub.connections.tasks.refresh_connection", acks_late=True)
def refresh_connection(connection_id: int) -> str:
    return vault.refresh_one(connection_id)
