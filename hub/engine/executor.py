"""Executing a run: claim it, run its steps from the first unfinished one, record each.

The rules that make a run durable (docs/engine.md, "Running a recipe"):

- A worker claims a run with a lease: one conditional UPDATE that succeeds for one worker
  only. A second delivery of the same message finds the lease taken and does nothing; a
  dead worker's lease expires, so another worker can resume the run.
- A step's attempt is written as "running" before the step is called, and its result is
  committed before the next step starts. Steps already done are never called again; an
  attempt interrupted by a crash stays visible as "interrupted".
- Nothing sleeps in a worker: retries and delays park the run as "waiting" and re-enqueue
  it with a countdown.

The parts: ``leases`` (the claim and the lease transitions), ``walk`` (the order of steps,
loop and paths), ``step_attempt`` (one attempt and what its outcome means), ``step_record``
(its StepRun row), ``step_connections``, ``timeouts``, ``outputs``; ``dispatch`` hands runs
to Celery.
"""

from __future__ import annotations

import contextlib
import json
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from hub.engine.dispatch import enqueue, wait_enqueue_seconds
from hub.engine.leases import Execution, Stop, claim, new_owner
from hub.engine.models import Run, StepRun
from hub.engine.walk import walk


def _document(value: Any) -> dict:
    """The version's document as returned beside the claim (text on some backends)."""
    if isinstance(value, str | bytes | bytearray):
        value = json.loads(value)
    return value or {}


def execute(run_id: int, owner: str | None = None, *, due: str | None = None) -> str:
    """Execute a run as far as it goes now. Returns what happened, for logs and tests:
    a final status, "waiting", or why nothing was done. ``due``: the resume time (ISO) the
    message was sent for, if any."""
    owner = owner or new_owner()
    run = claim(run_id, owner)
    if run is None:
        return _not_claimed(run_id, due)
    execution = Execution(
        run=run,
        owner=owner,
        lease=timedelta(seconds=settings.ENGINE_LEASE_SECONDS),
        steps=_document(run.version_document).get("steps", []),
        lease_until=run.lease_expires,
    )
    # A fresh run has no step rows: skip the query. A resumed, retried or replayed one does.
    if run.has_steps:
        for record in StepRun.objects.filter(run=run).order_by("id"):
            index = (record.key, record.item)
            execution.latest[index] = record
            execution.history.setdefault(index, []).append(record)
    with contextlib.suppress(Stop):
        walk(execution)
    return execution.result


def _not_claimed(run_id: int, due: str | None = None) -> str:
    """Explain a failed claim and, where the run still needs a worker, arrange one."""
    row = (
        Run.objects.filter(id=run_id)
        .values("status", "lease_expires", "cancel_requested", "resume_at")
        .first()
    )
    if row is None:
        return "missing"
    if row["status"] in Run.FINISHED:
        return "already-finished"
    now = timezone.now()
    if row["cancel_requested"]:
        if row["lease_expires"] is None or row["lease_expires"] < now:
            Run.objects.filter(id=run_id, status__in=Run.ACTIVE).filter(
                Q(lease_expires__isnull=True) | Q(lease_expires__lt=now)
            ).update(status=Run.Status.CANCELLED, finished_at=now, lease_owner="")
            return Run.Status.CANCELLED
        return "cancelling"
    if row["status"] == Run.Status.RUNNING and row["lease_expires"]:
        # Another worker holds the run (a second delivery, or a redelivery racing a live
        # lease). Look again when the lease would expire, in case its holder died.
        remaining = (row["lease_expires"] - now).total_seconds()
        enqueue(run_id, countdown=remaining + 1)
        return "held-elsewhere"
    if row["status"] == Run.Status.WAITING and row["resume_at"] and row["resume_at"] > now:
        return _early(run_id, row["resume_at"], due, now)
    return "not-due"


def _early(run_id: int, resume_at: datetime, due: str | None, now: datetime) -> str:
    """A message came before the run's resume time. Send it again for that time rather than
    leave the run to the sweeper, keeping one message per resume time: the message sent for
    this time goes again; any other early one goes only if none is on its way (the
    conditional UPDATE of ``enqueued_for`` decides, once)."""
    mine = due is not None and datetime.fromisoformat(due) == resume_at
    waiting = Run.objects.filter(id=run_id, status=Run.Status.WAITING, resume_at=resume_at)
    left = (resume_at - now).total_seconds()
    if left > wait_enqueue_seconds():
        # Too far off for the broker: the tick sends it when it is nearly due.
        if mine:
            waiting.filter(enqueued_for=resume_at).update(enqueued_for=None)
        return "parked"
    if mine:
        enqueue(run_id, countdown=left, due=resume_at)
        return "rescheduled"
    claimed = waiting.exclude(enqueued_for=resume_at).update(
        enqueued_for=resume_at, enqueued_at=now
    )
    if not claimed:
        return "not-due"  # the message for this resume time is on its way
    enqueue(run_id, countdown=left, stamped=True, due=resume_at)
    return "rescheduled"
