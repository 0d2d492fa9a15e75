"""Claiming a run and holding it: the lease.

A worker claims a run with one conditional UPDATE that succeeds for one worker only; a second
delivery of the same message finds the lease taken, and a dead worker's lease expires so
another worker can resume the run. Every change a worker makes to the run afterwards (renew,
finish, park) is guarded by the lease: it matches only while this worker still holds it.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from hub.engine.compiled_sql import RowUpdate
from hub.engine.dispatch import enqueue, wait_enqueue_seconds
from hub.engine.messages import Message, gettext_noop, to_json
from hub.engine.models import Run, StepRun

log = logging.getLogger(__name__)

_HOST = socket.gethostname()

# Every run renews its lease and ends through these: built once (compiled_sql, "Scale").
_RENEW = RowUpdate(Run, ("lease_expires",), match=("lease_owner", "cancel_requested"))
_FINISH = RowUpdate(
    Run,
    (
        "status",
        "error",
        "error_message",
        "failed_step",
        "finished_at",
        "lease_owner",
        "lease_expires",
        "resume_at",
    ),
    match=("lease_owner",),
)


def new_owner() -> str:
    return f"{_HOST}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


_CLAIM_SQL = """
UPDATE {run} SET status = %s, lease_owner = %s, lease_expires = %s, resume_at = NULL,
    started_at = COALESCE(started_at, %s)
WHERE id = %s AND status IN (%s, %s, %s) AND NOT cancel_requested
    AND (lease_expires IS NULL OR lease_expires < %s)
    AND (resume_at IS NULL OR resume_at <= %s)
RETURNING {columns},
    (SELECT name FROM {recipe} WHERE {recipe}.id = {run}.recipe_id) AS recipe_name,
    (SELECT document FROM {version} WHERE {version}.id = {run}.version_id) AS version_document,
    (SELECT published_by_id FROM {version} WHERE {version}.id = {run}.version_id) AS publisher_id,
    (SELECT timezone FROM {version} WHERE {version}.id = {run}.version_id) AS version_timezone,
    (SELECT timezone FROM {workspace} WHERE {workspace}.id = {run}.workspace_id)
        AS workspace_timezone,
    (SELECT owner_id FROM {recipe} WHERE {recipe}.id = {run}.recipe_id) AS recipe_owner_id,
    EXISTS (SELECT 1 FROM {step} WHERE {step}.run_id = {run}.id) AS has_steps
"""


def _claim_sql() -> str:
    if not hasattr(_claim_sql, "text"):
        # The recipe and version tables are the recipes' (the layer above): named through the
        # run's relations, so the engine imports nothing of theirs.
        _claim_sql.text = _CLAIM_SQL.format(
            run=Run._meta.db_table,
            recipe=Run._meta.get_field("recipe").related_model._meta.db_table,
            version=Run._meta.get_field("version").related_model._meta.db_table,
            workspace=Run._meta.get_field("workspace").related_model._meta.db_table,
            step=StepRun._meta.db_table,
            columns=", ".join(f.column for f in Run._meta.concrete_fields),
        )
    return _claim_sql.text


def claim(run_id: int, owner: str) -> Run | None:
    """Claim the run with a lease and load it, in one conditional UPDATE … RETURNING: the
    row changes for one worker only. Returns the run (with ``recipe_name``, the version's
    ``version_document``, ``has_steps`` (whether any step row exists yet) and what the steps'
    contexts need: ``publisher_id``, ``version_timezone``, ``workspace_timezone``,
    ``recipe_owner_id``), or None when it was not claimed."""
    now = timezone.now()
    lease = timedelta(seconds=settings.ENGINE_LEASE_SECONDS)
    at = connection.ops.adapt_datetimefield_value
    params = [
        Run.Status.RUNNING.value,
        owner,
        at(now + lease),
        at(now),
        run_id,
        *(status.value for status in Run.ACTIVE),
        at(now),
        at(now + timedelta(seconds=1)),
    ]
    return next(iter(Run.objects.raw(_claim_sql(), params)), None)


class Stop(Exception):
    """The run left the executor's hands (finished, parked, cancelled or lost its lease)."""


@dataclass
class Execution:
    """A claimed run in this worker's hands: its lease, its steps, what is recorded of them
    so far, and the connections its steps use."""

    run: Run
    owner: str
    lease: timedelta
    steps: list[dict]
    latest: dict[tuple[str, int | None], StepRun] = field(default_factory=dict)
    history: dict[tuple[str, int | None], list[StepRun]] = field(default_factory=dict)
    connections: dict[tuple[str, str], Any] = field(default_factory=dict)
    # Why a step may not use its connection (its publisher lost the right), by the same key.
    refused: dict[tuple[str, str], Message | None] = field(default_factory=dict)
    result: str = ""
    lease_until: datetime | None = None
    # The recipe's time zone and owner for step contexts (hub.engine.run_context), read once.
    facts: Any = None

    # -- run-level transitions (all guarded by the lease) --------------------------------

    def mine(self):
        """The run's row, as long as this worker holds its lease."""
        return Run.objects.filter(id=self.run.id, lease_owner=self.owner)

    def lease_low(self) -> bool:
        """True when less than half the lease is left (or it was never noted)."""
        return self.lease_until is None or (self.lease_until - timezone.now() < self.lease / 2)

    def renew(self) -> None:
        """Extend the lease before a step; the same UPDATE notices a cancel request."""
        now = timezone.now()
        if self.renew_lease(now):
            return
        current = Run.objects.filter(id=self.run.id).values("cancel_requested", "lease_owner")
        row = current.first()
        if row and row["cancel_requested"] and row["lease_owner"] == self.owner:
            self.finish(Run.Status.CANCELLED, Message(gettext_noop("Cancelled while running.")))
        else:
            log.warning("Run %s: lease lost; another worker has it", self.run.id)
            self.result = "lease-lost"
            raise Stop
        raise Stop

    def renew_lease(self, now: datetime) -> bool:
        """Extend the lease from ``now`` unless it is no longer ours or a cancel was
        requested; True when extended."""
        values = {"lease_expires": now + self.lease}
        if not _RENEW.update(self.run.id, values, self.owner, False):
            return False
        self.lease_until = now + self.lease
        return True

    def finish(self, status: str, error: str | Message = "", failed_step: str = "") -> None:
        now = timezone.now()
        values = {
            "status": status,
            "error": str(error)[:5000],
            "error_message": to_json(error),
            "failed_step": failed_step,
            "finished_at": now,
            "lease_owner": "",
            "lease_expires": None,
            "resume_at": None,
        }
        _FINISH.update(self.run.id, values, self.owner)
        self.result = status
        raise Stop

    def park(self, resume_at: datetime, *, extend_deadline: bool = False) -> None:
        updates: dict[str, Any] = {
            "status": Run.Status.WAITING,
            "resume_at": resume_at,
            "lease_owner": "",
            "lease_expires": None,
        }
        if extend_deadline and self.run.deadline and resume_at > self.run.deadline - self.lease:
            run_timeout = timedelta(seconds=settings.ENGINE_RUN_TIMEOUT_SECONDS)
            updates["deadline"] = resume_at + run_timeout
        now = timezone.now()
        countdown = (resume_at - now).total_seconds()
        # A long wait stays in the database: the tick sends it when it is nearly due.
        short = countdown <= wait_enqueue_seconds()
        if short:
            updates.update(enqueued_for=resume_at, enqueued_at=now)
        self.mine().update(**updates)
        if short:
            enqueue(self.run.id, countdown=countdown, stamped=True, due=resume_at)
        self.result = Run.Status.WAITING
        raise Stop
