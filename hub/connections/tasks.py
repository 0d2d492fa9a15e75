"""Celery tasks: thin, taking ids; the periodic refresh finds connections that expire soon and
refreshes each through the model (``hub.connections.vault`` underneath)."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from hub.connections.models import Connection
from integrations.base import IntegrationError


@shared_task(name="hub.connections.tasks.refresh_expiring")
def refresh_expiring() -> int:
    """Enqueue one refresh per connection whose token expires soon."""
    ids = refresh_due()
    for connection_id in ids:
        refresh_connection.delay(connection_id)
    return len(ids)


@shared_task(name="hub.connections.tasks.refresh_connection", acks_late=True)
def refresh_connection(connection_id: int) -> str:
    return refresh_one(connection_id)


def refresh_due(within: timedelta = timedelta(minutes=15)) -> list[int]:
    """Ids of active connections whose tokens expire soon and can be refreshed."""
    soon = timezone.now() + within
    return list(
        Connection.objects.filter(
            status=Connection.Status.ACTIVE,
            kind=Connection.Kind.OAUTH,
            expires_at__isnull=False,
            expires_at__lte=soon,
        ).values_list("pk", flat=True)
    )


def refresh_one(connection_id: int, within: timedelta = timedelta(minutes=15)) -> str:
    """Refresh one connection if it still expires soon. Returns what happened, for logs."""
    conn = Connection.objects.filter(pk=connection_id).first()
    if conn is None or conn.status != Connection.Status.ACTIVE:
        return "skipped"
    if not conn.expires_soon(within) or not conn.can_refresh:
        return "not due"
    try:
        conn.refresh(force=True)
    except IntegrationError as exc:
        return "broken" if exc.reauth else "failed"
    return "refreshed"
