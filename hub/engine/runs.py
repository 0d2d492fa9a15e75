"""Starting, cancelling and replaying runs. Every trigger goes through ``start_run``."""

from __future__ import annotations

import contextlib
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from hub.engine.executor import enqueue
from hub.engine.models import Run, StepOutput, StepRun
from hub.recipes.models import Recipe


class RunError(ValueError):
    pass


def start_run(
    recipe: Recipe,
    source: str,
    data: Any = None,
    *,
    dedupe_key: str | None = None,
    user=None,
    version=None,
) -> Run | None:
    """Insert a run and enqueue it on commit. Returns None when the dedupe key was already
    used (the event fired before): double-firing is harmless by construction."""
    version = version or recipe.current_version
    if version is None:
        raise RunError("Publish the recipe before running it.")
    now = timezone.now()
    key = dedupe_key or f"{source}:{recipe.pk}:{uuid.uuid4().hex}"
    # Outside a transaction the INSERT commits on its own (one statement, and the message is
    # sent right after it); inside one (the scheduler's tick) a savepoint keeps a dedupe
    # conflict from spoiling the caller's transaction.
    block = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
    try:
        with block:
            run = Run.objects.create(
                workspace_id=recipe.workspace_id,
                recipe=recipe,
                version=version,
                source=source,
                trigger_data=data if data is not None else {},
                dedupe_key=key,
                created_by=user if getattr(user, "is_authenticated", False) else None,
                created_at=now,
                enqueued_at=now,
                deadline=now + timedelta(seconds=settings.ENGINE_RUN_TIMEOUT_SECONDS),
            )
            enqueue(run.id, stamped=True)
    except IntegrityError:
        if Run.objects.filter(dedupe_key=key).exists():
            return None
        raise
    return run


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
        error="Cancelled.",
    )
    if not stopped:
        stopped = Run.objects.filter(id=run.id, status=Run.Status.RUNNING).update(
            cancel_requested=True
        )
        # A running run whose worker is gone has nobody to notice the request: stop it here.
        Run.objects.filter(id=run.id, status=Run.Status.RUNNING, lease_expires__lt=now).update(
            status=Run.Status.CANCELLED, finished_at=now, lease_owner="", error="Cancelled."
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
        raise RunError("Only a failed or cancelled run can be replayed.")
    now = timezone.now()
    with transaction.atomic():
        new = Run.objects.create(
            workspace_id=run.workspace_id,
            recipe_id=run.recipe_id,
            version_id=run.version_id,
            source=Run.Source.REPLAY,
            trigger_data=run.trigger_data,
            dedupe_key=f"replay:{run.pk}:{uuid.uuid4().hex}",
            replay_of=run,
            created_by=user if getattr(user, "is_authenticated", False) else None,
            created_at=now,
            enqueued_at=now,
            deadline=now + timedelta(seconds=settings.ENGINE_RUN_TIMEOUT_SECONDS),
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
                error=f"Carried over from run {run.pk}.",
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
        enqueue(new.id, stamped=True)
    return new
