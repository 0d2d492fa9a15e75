"""One attempt of one step: its fields rendered within the step's time limit, its "running"
row written under the lease, the call (with one token refresh on a reauth error, under the
step's timer), and what its outcome means for the run — next step, filtered, waiting,
retrying or failed (docs/engine.md, "Running a recipe")."""

from __future__ import annotations

import logging
import random
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from hub.engine import secrets, step_record
from hub.engine.leases import Execution, Stop
from hub.engine.messages import Message, gettext_noop, to_json
from hub.engine.models import Run, StepRun
from hub.engine.outputs import whole_output
from hub.engine.run_context import run_facts, running_step, with_recipe_zone
from hub.engine.step_connections import connection_for, mark_broken, refresh
from hub.engine.step_record import Slot, in_step
from hub.engine.timeouts import StepTimeout, step_timeout
from hub.mapping import MappingError, render
from integrations import registry
from integrations.base import Context, IntegrationError, StopRun, WaitUntil
from integrations.builtin.structure import STRUCTURAL, choose_branch, loop_items

log = logging.getLogger(__name__)


def run_slot(
    execution: Execution,
    slot: Slot,
    step: dict,
    data: dict,
    skipped: set[str],
    *,
    last: bool = False,
) -> tuple[Any, dict | None]:
    """Run one step (or take its recorded result). Returns its output and, for a paths
    step, the branch taken. ``last``: the run's final step, whose result may be written
    together with the run's end."""
    run = execution.run
    index = (slot.key, slot.item)
    previous = execution.latest.get(index)
    if previous is not None and previous.status in StepRun.DONE:
        return whole_output(previous), None
    if slot.key in skipped:
        now = timezone.now()
        StepRun.objects.create(
            run=run,
            key=slot.key,
            position=slot.position,
            item=slot.item,
            app=step["app"],
            action=step["action"],
            status=StepRun.Status.SKIPPED,
            started_at=now,
            finished_at=now,
            duration_ms=0,
        )
        return None, None

    local = registry.get(step["app"]).action(step["action"]).local
    resumed = previous is not None and previous.status == StepRun.Status.WAITING
    # A step that calls out renews the lease where it writes its "running" row, so that
    # row is written only while the lease is ours (see step_record.renew_and_insert). Before
    # that, renew only when less than half the lease is left: rendering takes time too.
    merged = not local
    if execution.lease_low():
        execution.renew()
    if run.deadline and timezone.now() > run.deadline:
        if merged:
            execution.renew()  # a cancel request wins, as when renewing first
        execution.finish(
            Run.Status.FAILED,
            Message(gettext_noop("The run took longer than allowed.")),
            slot.key,
        )

    if previous is not None and previous.status == StepRun.Status.RUNNING:
        interrupted = Message(
            gettext_noop("The worker stopped during this attempt; the step ran again.")
        )
        StepRun.objects.filter(id=previous.id, status=StepRun.Status.RUNNING).update(
            status=StepRun.Status.INTERRUPTED,
            error=str(interrupted),
            error_message=to_json(interrupted),
            finished_at=timezone.now(),
        )
    attempts = execution.history.get(index, [])
    # Holds of the hub's own rate limiter never reached the app: they keep the number of
    # the attempt they held back, so they use up none of the step's attempts.
    attempt = previous.attempt if resumed else sum(not held(r) for r in attempts) + 1

    limit = settings.ENGINE_STEP_TIMEOUT_SECONDS
    began = time.monotonic()
    try:
        config = render_within(step, data, slot.key, limit)
    except MappingError as error:
        if merged:
            execution.renew()  # a cancel request wins, as when renewing first
        step_record.record_failure(execution, slot, step, attempt, None, _mapping_message(error))
        execution.finish(Run.Status.FAILED, _mapping_message(error, slot.key), slot.key)

    started = time.monotonic()
    # The rest of the step's time limit is the call's: rendering counts against it.
    time_left = max(limit - (started - began), 0.001) if limit > 0 else 0
    now = timezone.now()
    if resumed:
        record = previous
    else:
        record = step_record.attempt_row(
            execution, slot, step, attempt, config, status=StepRun.Status.RUNNING, started_at=now
        )
    # A local step leaves nothing outside the process, so a crash mid-step has nothing to
    # reveal: its row is written once, with its result. Others are written before the call.
    try:
        with step_record.savepoint():
            written = local or step_record.renew_and_insert(execution, record, resumed=resumed)
    except DatabaseError as problem:
        step_record.unsaved(execution, record, started, problem, what="input")
    if not written:
        execution.renew()  # the lease is gone or a cancel came: this stops the run
        execution.result = "lease-lost"
        raise Stop
    try:
        output, branch = _call(execution, step, config, slot, resumed, time_left)
    except StopRun as stop:
        step_record.close(
            execution, record, started, StepRun.Status.FILTERED, {"reason": stop.reason}
        )
        execution.finish(Run.Status.FILTERED, stop.reason)
    except WaitUntil as wait:
        step_record.close(
            execution, record, started, StepRun.Status.WAITING, wait.output, finished=False
        )
        execution.park(wait.resume_at, extend_deadline=True)
    except IntegrationError as error:
        _failed(execution, record, started, slot, step, error, attempt)
    except StepTimeout as error:
        _failed(
            execution,
            record,
            started,
            slot,
            step,
            IntegrationError(error.args[0] if error.args else str(error)),
            attempt,
        )
    except Stop:
        raise
    except Exception as error:
        log.exception("Run %s step %s raised", run.id, slot.key)
        message = Message(
            gettext_noop("Unexpected error (%(type)s): %(detail)s"),
            type=type(error).__name__,
            detail=str(error),
        )
        step_record.close(execution, record, started, StepRun.Status.FAILED, None, error=message)
        execution.finish(Run.Status.FAILED, in_step(slot.key, message), slot.key)
    if last and record.pk is not None and step_record.merged_statements():
        step_record.close_and_finish(execution, record, started, output)
    whole = step_record.close(execution, record, started, StepRun.Status.SUCCEEDED, output)
    return whole, branch


def _call(
    execution: Execution, step: dict, config: dict, slot: Slot, resumed: bool, time_left: float
) -> tuple[Any, dict | None]:
    """Call the step's action (or, for loop and paths, decide here) within the time left."""
    if step["app"] == "builtin" and step["action"] in STRUCTURAL:
        if step["action"] == "loop":
            items, truncated = loop_items(config, settings.ENGINE_LOOP_MAX_ITEMS)
            return {"count": len(items), "truncated": truncated}, None
        branch = choose_branch(config)
        return {"branch": branch.get("name") if branch else None}, branch or {}
    run = execution.run
    integration = registry.get(step["app"])
    action = integration.action(step["action"])
    connection = connection_for(execution, step)
    if step.get("connection") and connection is None:
        raise IntegrationError(
            f"There is no {integration.name or step['app']} connection called "
            f"“{step['connection']}”; connect it under Connections.",
            permanent=True,
        )
    facts = run_facts(execution)
    ctx = Context(
        workspace_id=run.workspace_id,
        # Secret fields are opened here, as the step runs, and nowhere else.
        config=with_recipe_zone(
            action, secrets.reveal(step, config, run.workspace_id), facts.timezone
        ),
        connection=connection,
        run_id=run.id,
        step_key=slot.key,
        integration=integration,
        resumed=resumed,
        timezone=facts.timezone,
        recipe_id=facts.recipe_id,
        version_id=facts.version_id,
        member_id=facts.member_id,
    )
    if connection is not None:
        # Fresh before the step's timer starts: a refresh the timer cut short could lose
        # the rotated refresh token the app had already issued (docs/engine.md).
        connection.fresh_token()
    refreshed = False
    while True:
        try:
            with (
                step_timeout(time_left, limit=settings.ENGINE_STEP_TIMEOUT_SECONDS),
                running_step(run.id, slot.key, step, facts),
            ):
                return action.run(ctx), None
        except IntegrationError as error:
            # A permanent reauth error means the connection is already unusable.
            if not error.reauth or error.permanent or connection is None or refreshed:
                raise
            refreshed = True
            if not refresh(connection):
                raise
            log.info("Run %s step %s: token refreshed, trying again", run.id, slot.key)


def _failed(
    execution: Execution,
    record: StepRun,
    started: float,
    slot: Slot,
    step: dict,
    error: IntegrationError,
    attempt: int,
) -> None:
    """An app's error: the connection broken (reauth), the run failed (permanent, or out of
    attempts), or the run parked until its retry is due."""
    message = error.message  # the app's own words (or a Message of ours), as they are
    if error.reauth:
        connection = connection_for(execution, step)
        reason = Message(
            gettext_noop("The app no longer accepts this connection: %(detail)s"),
            detail=message,
        )
        if connection is not None:
            mark_broken(connection, str(reason))
        step_record.close(execution, record, started, StepRun.Status.FAILED, None, error=reason)
        execution.finish(
            Run.Status.FAILED,
            Message(
                gettext_noop("Step “%(step)s”: the connection needs reconnecting (%(detail)s)"),
                step=slot.key,
                detail=message,
            ),
            slot.key,
        )
    # A call our own rate limiter held back never reached the app: it waits its turn
    # without using up an attempt (the run's deadline still bounds it).
    out_of_attempts = attempt >= settings.ENGINE_MAX_ATTEMPTS and not error.throttled
    if error.permanent or out_of_attempts:
        if not error.permanent:
            message = Message(
                gettext_noop("%(detail)s (gave up after %(attempts)s attempts)"),
                detail=message,
                attempts=attempt,
            )
        step_record.close(execution, record, started, StepRun.Status.FAILED, None, error=message)
        execution.finish(Run.Status.FAILED, in_step(slot.key, message), slot.key)
    if error.throttled:
        # Spread the waiting steps over the next window instead of all at its start.
        wait = float(error.retry_after or 1)
        delay = wait + wait * random.uniform(0, 0.5)  # noqa: S311  (jitter, not security)
    else:
        delay = backoff_seconds(attempt, error.retry_after)
    note = Message(
        HELD if error.throttled else gettext_noop("%(detail)s — trying again in %(seconds)s s"),
        detail=message,
        seconds=f"{delay:.1f}",
    )
    step_record.close(execution, record, started, StepRun.Status.RETRYING, None, error=note)
    execution.park(timezone.now() + timedelta(seconds=delay))


HELD = gettext_noop("%(detail)s — waiting its turn; trying again in %(seconds)s s")


def held(record: StepRun) -> bool:
    """A row of a call the hub's own rate limiter held back (see ``_failed``)."""
    stored = record.error_message
    return (
        record.status == StepRun.Status.RETRYING
        and isinstance(stored, dict)
        and stored.get("text") == HELD
    )


def backoff_seconds(attempt: int, retry_after: float | None) -> float:
    """Exponential backoff with full jitter on the upper half, never below Retry-After."""
    base = settings.ENGINE_RETRY_BASE_SECONDS * (2 ** max(0, attempt - 1))
    capped = min(settings.ENGINE_RETRY_MAX_SECONDS, base)
    delay = capped * random.uniform(0.5, 1.0)  # noqa: S311  (jitter, not security)
    if retry_after is not None:
        delay = max(delay, float(retry_after))
    return delay


def render_within(step: dict, data: dict, key: str, seconds: float) -> dict:
    """The step's fields filled in, within its time limit: the mapping budget bounds the
    work filters do, and the timer stops whatever the budget did not foresee."""
    try:
        with step_timeout(seconds):
            return render(step.get("config") or {}, data, step=key)
    except StepTimeout:
        raise MappingError(
            f"filling in its fields took longer than {seconds:g} s; use fewer references or "
            "filters over large data",
            step=key,
        ) from None


def _mapping_message(error: MappingError, key: str | None = None) -> Message:
    """A mapping problem located once: the run's error names the step and field, the step's
    own row the field (it is that step's row)."""
    if key and error.field:
        text = gettext_noop("Step “%(step)s”, field “%(field)s”: %(detail)s")
    elif key:
        text = gettext_noop("Step “%(step)s”: %(detail)s")
    elif error.field:
        text = gettext_noop("Field “%(field)s”: %(detail)s")
    else:
        text = "%(detail)s"
    return Message(text, step=key, field=error.field, detail=error.message)
