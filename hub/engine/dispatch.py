"""Handing a run to Celery: the one place the engine sends ``execute_run``.

The message is sent by the task's name (``send_task``), not through the task object, so no
engine module imports ``hub.engine.tasks`` — the task module imports the executor, and the
executor, ``runs``, ``scheduler`` and ``sweeper`` send runs: importing the task to send it
closed an import cycle (docs/engine.md, "Handing a run to Celery"). The name is fixed here and
the task takes it from here, so the two cannot drift apart.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from hub.engine.models import Run

log = logging.getLogger(__name__)

EXECUTE_RUN = "hub.engine.tasks.execute_run"


def enqueue(
    run_id: int,
    *,
    countdown: float | None = None,
    stamped: bool = False,
    due: datetime | None = None,
) -> None:
    """Hand the run to Celery once the current transaction commits. ``stamped``: the caller
    has just written ``enqueued_at`` itself (a new run), so it is not written again. ``due``:
    the resume time the message is for, so an early delivery knows it is that message."""
    if not stamped:
        Run.objects.filter(id=run_id).update(enqueued_at=timezone.now())

    def send() -> None:
        options: dict[str, Any] = {"countdown": max(0.0, countdown)} if countdown else {}
        if due is not None:
            options["kwargs"] = {"due": due.isoformat()}
        try:
            # ignore_result as the task declares it, as apply_async would pass it.
            current_app.send_task(EXECUTE_RUN, (run_id,), ignore_result=True, **options)
        except Exception:
            # The run is committed; the sweeper sends it again once the broker is back.
            log.exception("Could not enqueue run %s; the sweeper will retry", run_id)

    transaction.on_commit(send)


# Messages per Redis pipeline when many runs are sent at once.
PUBLISH_BATCH = 500


def enqueue_many(run_ids: list[int]) -> None:
    """Hand new runs (their ``enqueued_at`` written by the caller) to Celery once the
    transaction commits, through one producer: the schedule tick sends thousands at once, and
    acquiring the broker connection per message cost more than sending it. On Redis the
    producer's batch sends them as pipelines of ``PUBLISH_BATCH`` (one round trip each, half
    the CPU per message of one publish at a time); other brokers publish one by one."""
    if not run_ids:
        return

    def send() -> None:
        try:
            with (
                current_app.producer_or_acquire() as producer,
                producer.batch(max_size=PUBLISH_BATCH),
            ):
                for run_id in run_ids:
                    current_app.send_task(
                        EXECUTE_RUN, (run_id,), ignore_result=True, producer=producer
                    )
        except Exception:
            log.exception("Could not enqueue %s runs; the sweeper will retry", len(run_ids))

    transaction.on_commit(send)


def wait_enqueue_seconds() -> float:
    """The longest wait handed to the broker as a countdown message. Kept well under the
    broker's visibility timeout: Redis gives an unacknowledged message (a countdown waiting
    in a worker) to a consumer again after it, once per timeout, for as long as it waits."""
    limit = float(settings.ENGINE_WAIT_ENQUEUE_SECONDS)
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", None) or {}
    visibility = options.get("visibility_timeout")
    if visibility:
        limit = min(limit, float(visibility) / 2)
    return limit
