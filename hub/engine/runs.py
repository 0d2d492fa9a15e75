"""Starting, cancelling and replaying runs. Every run is created by ``start_run``."""

from __future__ import annotations

import contextlib
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hub.engine.compiled_sql import BatchInsert, RowInsert
from hub.engine.dispatch import enqueue, enqueue_many
from hub.engine.messages import Message, gettext_noop
from hub.engine.models import DedupeKey, Run, StepOutput, StepRun


class RunError(ValueError):
    pass


CANCELLED = Message(gettext_noop("Cancelled."))
# Every run is inserted by this one statement, built once (the intake's cost: compiled_sql).
_INSERT_RUN = RowInsert(Run)
_INSERT_RUNS = BatchInsert(Run)
_INSERT_KEYS = BatchInsert(DedupeKey)


def _new_run(recipe, version, source, data, key, now, *, user=None, replay_of=None) -> dict:
    """The columns of a new run, for the one-row insert and the batch alike."""
    return {
        "workspace_id": recipe.workspace_id,
        "recipe_id": recipe.pk,
        "version_id": version.pk,
        "source": source,
        "trigger_data": data if data is not None else {},
        "dedupe_key": key,
        "created_by_id": user.pk if getattr(user, "is_authenticated", False) else None,
        "created_at": now,
        "enqueued_at": now,
        "deadline": now + timedelta(seconds=settings.ENGINE_RUN_TIMEOUT_SECONDS),
        "replay_of_id": replay_of.pk if replay_of is not None else None,
    }


def start_run(
    recipe,
    source: str,
    data: Any = None,
    *,
    dedupe_key: str | None = None,
    user=None,
    version=None,
    replay_of: Run | None = None,
) -> Run | None:
    """Insert a run of the recipe (a hub.recipes Recipe) and enqueue it on commit. Returns
    None when the dedupe key was already used (the event fired before): double-firing is
    harmless by construction. A given ``dedupe_key`` is also recorded as a ``DedupeKey``, in
    the same transaction, which outlives the run (ENGINE_DEDUPE_DAYS), so the event stays
    deduped after pruning."""
    version = version or recipe.current_version
    if version is None:
        raise RunError(_("Publish the recipe before running it."))
    now = timezone.now()
    key = dedupe_key or f"{source}:{recipe.pk}:{uuid.uuid4().hex}"
    # Outside a transaction a keyless INSERT commits on its own (one statement, and the
    # message is sent right after it); a keyed one writes two rows, so it needs one; inside
    # one (the scheduler's tick) a savepoint keeps a dedupe conflict from spoiling the
    # caller's transaction.
    atomic = connection.in_atomic_block or dedupe_key is not None
    block = transaction.atomic() if atomic else contextlib.nullcontext()
    try:
        with block:
            run = _INSERT_RUN.insert(
                _new_run(recipe, version, source, data, key, now, user=user, replay_of=replay_of)
            )
            if dedupe_key is not None:
                DedupeKey.objects.create(recipe=recipe, key=key, run=run, created_at=now)
            enqueue(run.id, stamped=True)
    except IntegrityError:
        if (
            DedupeKey.objects.filter(key=key).exists()
            or Run.objects.filter(dedupe_key=key).exists()
        ):
            return None
        raise
    return run


# The columns of a batch of runs that take the moment they are inserted.
_STAMPED = ("created_at", "enqueued_at", "deadline")


class PreparedRuns:
    """Many keyed runs — ``(recipe, data, dedupe_key)`` each, of published recipes — built
    ahead, as ``start_run`` would insert them, and inserted by ``insert`` in a few multi-row
    INSERTs: the schedule tick prepares the runs of a due time before it comes and inserts
    them at it, so the insert is all that is left at the due time."""

    def __init__(self, source: str, starts: list[tuple[Any, Any, str]]):
        self.starts = starts
        placeholder = timezone.now()
        self.rows = [
            _INSERT_RUNS.prepare(
                _new_run(recipe, recipe.current_version, source, data, key, placeholder),
                late=_STAMPED,
            )
            for recipe, data, key in starts
        ]
        self.keys = [
            _INSERT_KEYS.prepare(
                {"recipe_id": recipe.pk, "key": key}, late=("run_id", "created_at")
            )
            for recipe, _data, key in starts
        ]
        self.source = source
        self.stamped_at = None  # the runs' created_at, once inserted

    def insert(self, at: datetime | None = None) -> int:
        """Insert the runs and their dedupe keys, stamped now — or ``at``, the moment the
        caller commits them, when that is later (the schedule tick inserts ahead of a due time
        and commits at it: the runs exist for everyone from then) — and enqueue them on
        commit. If any key was used before, falls back to ``start_run`` one by one (at ``at``),
        which skips just those. Returns how many runs were created."""
        if not self.starts:
            return 0
        now = self.stamped_at = max(at, timezone.now()) if at else timezone.now()
        deadline = now + timedelta(seconds=settings.ENGINE_RUN_TIMEOUT_SECONDS)
        run_column = _INSERT_KEYS.index("run_id")
        try:
            with transaction.atomic():
                if at and connection.vendor == "postgresql":
                    # Foreign keys checked now, not in the commit at the due time.
                    with connection.cursor() as cursor:
                        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                ids = _INSERT_RUNS.insert(
                    self.rows, {"created_at": now, "enqueued_at": now, "deadline": deadline}
                )
                keys = []
                for row, run_id in zip(self.keys, ids, strict=True):
                    row = list(row)
                    row[run_column] = run_id
                    keys.append(row)
                _INSERT_KEYS.insert(keys, {"created_at": now})
                enqueue_many(ids)
        except IntegrityError:
            if at:
                time.sleep(max(0.0, (at - timezone.now()).total_seconds()))
            started = (
                start_run(recipe, self.source, data, dedupe_key=key)
                for recipe, data, key in self.starts
            )
            return sum(run is not None for run in started)
        return len(ids)


def start_runs(source: str, starts: list[tuple[Any, Any, str]]) -> int:
    """Many keyed runs at once (see ``PreparedRuns``), inserted now. Returns how many runs
    were created."""
    return PreparedRuns(source, starts).insert()


def cancel(run: Run) -> bool:
    """Cancel a queued, waiting or running run. A running one stops before its next step."""
    now = timezone.now()
    stopped = Run.objects.filter(
        id=run.id, status__in=[Run.Status.QUEUED, Run.Status.WAITING]
    ).update(
        status=Run.Status.CANCELLED,
        cancel_requested=True,
        finished_at=now,
        resume_at=None,
        error=str(CANCELLED),
        error_message=CANCELLED.to_json(),
    )
    if not stopped:
        stopped = Run.objects.filter(id=run.id, status=Run.Status.RUNNING).update(
            cancel_requested=True
        )
        # A running run whose worker is gone has nobody to notice the request: stop it here.
        Run.objects.filter(id=run.id, status=Run.Status.RUNNING, lease_expires__lt=now).update(
            status=Run.Status.CANCELLED,
            finished_at=now,
            lease_owner="",
            error=str(CANCELLED),
            error_message=CANCELLED.to_json(),
        )
    if stopped:
        StepRun.objects.filter(
            run_id=run.id, status__in=[StepRun.Status.WAITING, StepRun.Status.RETRYING]
        ).update(status=StepRun.Status.CANCELLED, finished_at=now)
    run.refresh_from_db()
    return bool(stopped)


def replay(run: Run, user=None) -> Run:
    """A new run of the same version and trigger data that starts at the failed step: the
    steps that succeeded before it are carried over, not run again."""
    run.refresh_from_db()
    if run.status not in (Run.Status.FAILED, Run.Status.CANCELLED):
        raise RunError(_("Only a failed or cancelled run can be replayed."))
    carried_over = Message(gettext_noop("Carried over from run %(run)s."), run=run.pk)
    with transaction.atomic():
        new = start_run(
            run.recipe,
            Run.Source.REPLAY,
            run.trigger_data,
            user=user,
            version=run.version,
            replay_of=run,
        )
        done = list(StepRun.objects.filter(run=run, status__in=StepRun.DONE).order_by("id"))
        carried = [
            StepRun(
                run=new,
                key=s.key,
                position=s.position,
                item=s.item,
                app=s.app,
                action=s.action,
                attempt=s.attempt,
                status=s.status,
                input=s.input,
                output=s.output,
                output_truncated=s.output_truncated,
                error=str(carried_over),
                error_message=carried_over.to_json(),
                started_at=s.started_at,
                finished_at=s.finished_at,
                duration_ms=s.duration_ms,
            )
            for s in done
        ]
        StepRun.objects.bulk_create(carried)
        # Later steps map from the whole output of a carried step, kept apart when large.
        wholes = dict(
            StepOutput.objects.filter(step__in=[s for s in done if s.output_truncated]).values_list(
                "step_id", "data"
            )
        )
        StepOutput.objects.bulk_create(
            StepOutput(step=copy, data=wholes[s.pk])
            for s, copy in zip(done, carried, strict=True)
            if s.pk in wholes
        )
    return new
