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
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import signal
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from hub.engine import secrets
from hub.engine.messages import Message, gettext_noop, to_json
from hub.engine.models import Run, StepOutput, StepRun
from hub.mapping import MappingError, render
from integrations import registry
from integrations.base import Context, IntegrationError, StopRun, WaitUntil
from integrations.builtin.structure import STRUCTURAL, choose_branch, loop_items

log = logging.getLogger(__name__)

_HOST = socket.gethostname()


def new_owner() -> str:
    return f"{_HOST}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


# ------------------------------------------------------------------------ enqueueing


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
        from hub.engine.tasks import execute_run

        options: dict[str, Any] = {"countdown": max(0.0, countdown)} if countdown else {}
        if due is not None:
            options["kwargs"] = {"due": due.isoformat()}
        try:
            execute_run.apply_async((run_id,), **options)
        except Exception:
            # The run is committed; the sweeper sends it again once the broker is back.
            log.exception("Could not enqueue run %s; the sweeper will retry", run_id)

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


# ------------------------------------------------------------------------ step timeouts


class StepTimeout(Exception):
    pass


class _Watchdog:
    """One daemon thread per process that interrupts steps running on other threads (a
    thread pool): when a step's time is up it raises StepTimeout in that thread with
    PyThreadState_SetAsyncExc. The exception lands at the thread's next Python bytecode, so
    a thread blocked inside one C call (a socket read) is interrupted when that call
    returns; every app's HTTP client has its own request timeout for that case."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._armed: dict[int, tuple[float, int, float]] = {}  # token -> (due, thread, secs)
        self._fired: set[int] = set()
        self._tokens = 0
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float) -> int:
        with self._cond:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="engine-step-watchdog", daemon=True
                )
                self._thread.start()
            self._tokens += 1
            token = self._tokens
            self._armed[token] = (time.monotonic() + seconds, threading.get_ident(), seconds)
            self._cond.notify()
            return token

    def disarm(self, token: int) -> bool:
        """Returns True when the step's time ran out (StepTimeout was or is being raised)."""
        with self._cond:
            self._armed.pop(token, None)
            fired = token in self._fired
            self._fired.discard(token)
        if fired:
            # The StepTimeout may still be pending: it must not surface after the step (the
            # caller raises StepTimeout itself). Clearing it with SetAsyncExc(NULL) would
            # leave CPython's "async exception pending" flag raised for every thread, so
            # every bytecode would check for it from then on; replacing it with an
            # exception of our own and catching that lowers the flag.
            _absorb_pending()
        return fired

    def _loop(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                due = [(t, v) for t, v in self._armed.items() if v[0] <= now]
                for token, (_due, thread_id, _seconds) in due:
                    del self._armed[token]
                    self._fired.add(token)
                    _async_raise(thread_id, StepTimeout)
                nearest = min((v[0] for v in self._armed.values()), default=now + 60)
                self._cond.wait(max(0.005, nearest - now))


def _async_raise(thread_id: int, exception: type[BaseException] | None) -> None:
    import ctypes

    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exception) if exception else None
    )


class _Absorbed(BaseException):
    pass


def _absorb_pending() -> None:
    try:
        _async_raise(threading.get_ident(), _Absorbed)
        # Delivered at the next check (the call's return or the loop's first backward
        # jump); the bound is only a safety net.
        for _ in range(1_000_000):
            pass
    except _Absorbed:
        return


_WATCHDOG = _Watchdog()


@contextlib.contextmanager
def step_timeout(seconds: float, *, limit: float | None = None):
    """Interrupt a step that runs too long, whatever the worker pool. On the main thread
    (prefork and solo pools) an interval timer interrupts even a blocked system call; on
    other threads (the thread pool) the watchdog raises StepTimeout in the step's thread.
    ``limit``: the step's whole time limit, for the message, when ``seconds`` is what is
    left of it."""
    if seconds <= 0:
        yield
        return
    message = Message(
        gettext_noop("The step took longer than %(seconds)s s."), seconds=f"{limit or seconds:g}"
    )
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        token = _WATCHDOG.arm(seconds)
        try:
            yield
        except StepTimeout:
            _WATCHDOG.disarm(token)
            raise StepTimeout(message) from None
        except BaseException:
            if _WATCHDOG.disarm(token):
                raise StepTimeout(message) from None
            raise
        if _WATCHDOG.disarm(token):
            raise StepTimeout(message)
        return

    def expired(signum, frame):
        raise StepTimeout(message)

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# ------------------------------------------------------------------------ helpers


def backoff_seconds(attempt: int, retry_after: float | None) -> float:
    """Exponential backoff with full jitter on the upper half, never below Retry-After."""
    base = settings.ENGINE_RETRY_BASE_SECONDS * (2 ** max(0, attempt - 1))
    capped = min(settings.ENGINE_RETRY_MAX_SECONDS, base)
    delay = capped * random.uniform(0.5, 1.0)  # noqa: S311  (jitter, not security)
    if retry_after is not None:
        delay = max(delay, float(retry_after))
    return delay


class Unrecordable(Exception):
    """A step's result the engine cannot keep: not JSON (NaN, infinity) or over the hard cap.
    The message says so to a member."""


def cap_output(output: Any) -> tuple[Any, bool, Any]:
    """The output as plain JSON: (what the run page keeps, whether that is shortened, the
    whole output later steps map from). Up to ENGINE_OUTPUT_MAX_BYTES both are the same;
    a larger output is kept as a preview for the page and whole apart (StepOutput), up to
    ENGINE_OUTPUT_HARD_MAX_BYTES, past which it raises Unrecordable."""
    if output is None:
        output = {}
    try:
        text = json.dumps(output, default=str, ensure_ascii=False, allow_nan=False)
    except ValueError as error:
        reason = str(error)
        if "Out of range float" in reason:
            reason = "it holds a value that is not a finite number (NaN or infinity)"
        raise Unrecordable(f"The step's result could not be saved: {reason}.") from None
    size = len(text.encode())
    whole = json.loads(text) if not _plain(output) else output
    limit = settings.ENGINE_OUTPUT_MAX_BYTES
    if size <= limit:
        return whole, False, whole
    hard = settings.ENGINE_OUTPUT_HARD_MAX_BYTES
    if size > hard:
        raise Unrecordable(
            f"The step's result is {_size_text(size)}; a step may return at most "
            f"{_size_text(hard)}."
        )
    preview = {"truncated": True, "size_bytes": size, "preview": text[: min(2000, limit)]}
    return preview, True, whole


def _size_text(size: int) -> str:
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


def _savepoint():
    """Inside a caller's transaction (tests, a command) a savepoint, so a write the database
    refuses is undone and the run can still be failed; in autocommit a refused statement
    leaves nothing behind, and no statement is added."""
    return transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()


def _whole_output(record: StepRun) -> Any:
    """A finished attempt's output as later steps see it: whole, also when the row keeps
    only a preview."""
    if not record.output_truncated:
        return record.output
    whole = StepOutput.objects.filter(step_id=record.pk).values_list("data", flat=True).first()
    return record.output if whole is None else whole


def _plain(value: Any) -> bool:
    """True when the value is already JSON-native (the common case: skip a round trip)."""
    if value is None or isinstance(value, str | int | float | bool):
        return True
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


def resolve_connection(
    workspace_id: int, app: str, label: str | None, connection_id: int | None = None
):
    """The step's connection: by id (a rename changes nothing), or by label for a step
    stored before steps held ids and never resolved since."""
    if not label and not connection_id:
        return None
    try:
        from hub.connections.models import Connection
    except ImportError:
        return None
    app_field = "integration" if _has_field(Connection, "integration") else "app"
    which = {"pk": connection_id} if connection_id else {"label": label}
    return Connection.objects.filter(workspace_id=workspace_id, **which, **{app_field: app}).first()


def publisher_may_not_use(version_id: int, connection) -> Message | None:
    """Why the version's publisher may no longer use the connection, or None when they may.
    A version published from the command line (no publisher) is an operator's: allowed."""
    from hub.recipes.models import RecipeVersion

    publisher = RecipeVersion.objects.filter(pk=version_id).values_list(
        "published_by_id", "published_by__email"
    )
    publisher_id, email = publisher.first() or (None, None)
    if publisher_id is None or connection.usable_by_user(publisher_id):
        return None
    return Message(
        gettext_noop(
            "The connection “%(label)s” is no longer shared with %(email)s, who published this "
            "recipe. Share it with them again, or have someone who may use it publish the "
            "recipe again."
        ),
        label=connection.label,
        email=email,
    )


def _has_field(model, name: str) -> bool:
    try:
        model._meta.get_field(name)
    except Exception:
        return False
    return True


# ------------------------------------------------------------------------ the executor


class _Stop(Exception):
    """The run left the executor's hands (finished, parked, cancelled or lost its lease)."""


@dataclass
class _Slot:
    key: str
    position: int
    item: int | None


@dataclass
class Execution:
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

    # -- run-level transitions (all guarded by the lease) --------------------------------

    def _mine(self):
        return Run.objects.filter(id=self.run.id, lease_owner=self.owner)

    def lease_low(self) -> bool:
        """True when less than half the lease is left (or it was never noted)."""
        return self.lease_until is None or (self.lease_until - timezone.now() < self.lease / 2)

    def renew(self) -> None:
        """Extend the lease before a step; the same UPDATE notices a cancel request."""
        now = timezone.now()
        changed = self._mine().filter(cancel_requested=False).update(lease_expires=now + self.lease)
        if changed:
            self.lease_until = now + self.lease
            return
        current = Run.objects.filter(id=self.run.id).values("cancel_requested", "lease_owner")
        row = current.first()
        if row and row["cancel_requested"] and row["lease_owner"] == self.owner:
            self.finish(Run.Status.CANCELLED, Message(gettext_noop("Cancelled while running.")))
        else:
            log.warning("Run %s: lease lost; another worker has it", self.run.id)
            self.result = "lease-lost"
            raise _Stop
        raise _Stop

    def finish(self, status: str, error: str | Message = "", failed_step: str = "") -> None:
        now = timezone.now()
        self._mine().update(
            status=status,
            error=str(error)[:5000],
            error_message=to_json(error),
            failed_step=failed_step,
            finished_at=now,
            lease_owner="",
            lease_expires=None,
            resume_at=None,
        )
        self.result = status
        raise _Stop

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
        self._mine().update(**updates)
        if short:
            enqueue(self.run.id, countdown=countdown, stamped=True, due=resume_at)
        self.result = Run.Status.WAITING
        raise _Stop

    # -- steps ------------------------------------------------------------------------

    def connection_for(self, step: dict):
        """The step's connection, once its publisher's right to use it is checked (again at
        every run: sharing may have changed since publishing). Without that right the step
        fails and the recipe is paused, as for a broken connection."""
        label, connection_id = step.get("connection"), step.get("connection_id")
        if not label and not connection_id:
            return None
        key = (step["app"], connection_id or label)
        if key not in self.connections:
            connection = resolve_connection(
                self.run.workspace_id, step["app"], label, connection_id
            )
            if connection is not None:
                self.refused[key] = publisher_may_not_use(self.run.version_id, connection)
                if self.refused[key]:
                    _pause_version(self.run.version_id, self.refused[key])
            self.connections[key] = connection
        if self.refused.get(key):
            raise IntegrationError(self.refused[key], permanent=True)
        return self.connections[key]

    def run_slot(
        self, slot: _Slot, step: dict, data: dict, skipped: set[str], *, last: bool = False
    ) -> tuple[Any, dict | None]:
        """Run one step (or take its recorded result). Returns its output and, for a paths
        step, the branch taken. ``last``: the run's final step, whose result may be written
        together with the run's end."""
        index = (slot.key, slot.item)
        previous = self.latest.get(index)
        if previous is not None and previous.status in StepRun.DONE:
            return _whole_output(previous), None
        if slot.key in skipped:
            now = timezone.now()
            StepRun.objects.create(
                run=self.run,
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
        # row is written only while the lease is ours (see _renew_and_insert). Before that,
        # renew only when less than half the lease is left: rendering takes time too.
        merged = not local
        if self.lease_low():
            self.renew()
        if self.run.deadline and timezone.now() > self.run.deadline:
            if merged:
                self.renew()  # a cancel request wins, as when renewing first
            self.finish(
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
        attempts = self.history.get(index, [])
        attempt = previous.attempt if resumed else len(attempts) + 1

        limit = settings.ENGINE_STEP_TIMEOUT_SECONDS
        began = time.monotonic()
        try:
            config = _render_within(step, data, slot.key, limit)
        except MappingError as error:
            if merged:
                self.renew()  # a cancel request wins, as when renewing first
            self._record_failure(slot, step, attempt, None, _mapping_message(error))
            self.finish(Run.Status.FAILED, _mapping_message(error, slot.key), slot.key)

        started = time.monotonic()
        # The rest of the step's time limit is the call's: rendering counts against it.
        time_left = max(limit - (started - began), 0.001) if limit > 0 else 0
        now = timezone.now()
        if resumed:
            record = previous
        else:
            record = self._attempt_row(
                slot, step, attempt, config, status=StepRun.Status.RUNNING, started_at=now
            )
        # A local step leaves nothing outside the process, so a crash mid-step has nothing to
        # reveal: its row is written once, with its result. Others are written before the call.
        try:
            with _savepoint():
                written = local or self._renew_and_insert(record, resumed=resumed)
        except DatabaseError as problem:
            self._unsaved(record, started, problem, what="input")
        if not written:
            self.renew()  # the lease is gone or a cancel came: this stops the run
            self.result = "lease-lost"
            raise _Stop
        try:
            output, branch = self._call(step, config, slot, resumed, time_left)
        except StopRun as stop:
            self._close(record, started, StepRun.Status.FILTERED, {"reason": stop.reason})
            self.finish(Run.Status.FILTERED, stop.reason)
        except WaitUntil as wait:
            self._close(record, started, StepRun.Status.WAITING, wait.output, finished=False)
            self.park(wait.resume_at, extend_deadline=True)
        except IntegrationError as error:
            self._failed(record, started, slot, step, error, attempt)
        except StepTimeout as error:
            self._failed(
                record,
                started,
                slot,
                step,
                IntegrationError(error.args[0] if error.args else str(error)),
                attempt,
            )
        except _Stop:
            raise
        except Exception as error:
            log.exception("Run %s step %s raised", self.run.id, slot.key)
            message = Message(
                gettext_noop("Unexpected error (%(type)s): %(detail)s"),
                type=type(error).__name__,
                detail=str(error),
            )
            self._close(record, started, StepRun.Status.FAILED, None, error=message)
            self.finish(Run.Status.FAILED, _in_step(slot.key, message), slot.key)
        if last and record.pk is not None and _merged_statements():
            self._close_and_finish(record, started, output)
        whole = self._close(record, started, StepRun.Status.SUCCEEDED, output)
        return whole, branch

    def _renew_and_insert(self, record: StepRun, *, resumed: bool = False) -> bool:
        """Extend the lease (noticing a cancel request) and, only if that succeeded, write
        the attempt's "running" row (insert it, or for a resumed wait set it back to
        running). False when the lease was not ours or a cancel was requested (nothing
        written). One statement on PostgreSQL; elsewhere one transaction, which on SQLite
        takes the write lock before the lease is read, so no other worker claims between."""
        now = timezone.now()
        if resumed or not _merged_statements():
            with transaction.atomic():
                mine = self._mine().filter(cancel_requested=False)
                if not mine.update(lease_expires=now + self.lease):
                    return False
                if not resumed:
                    record.save(force_insert=True)
                elif not StepRun.objects.filter(id=record.id, status=StepRun.Status.WAITING).update(
                    status=StepRun.Status.RUNNING
                ):
                    return False
            self.lease_until = now + self.lease
            return True
        fields = [f for f in StepRun._meta.concrete_fields if not f.primary_key]
        sql = _RENEW_INSERT_SQL.format(
            run=Run._meta.db_table,
            step=StepRun._meta.db_table,
            columns=", ".join(f.column for f in fields),
            values=", ".join(["%s"] * len(fields)),
        )
        params = [now + self.lease, self.run.id, self.owner]
        params += [f.get_db_prep_save(getattr(record, f.attname), connection) for f in fields]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        if row is None:
            return False
        record.pk = row[0]
        record._state.adding = False
        self.lease_until = now + self.lease
        return True

    def _close_and_finish(self, record: StepRun, started: float, output: Any) -> None:
        """The last step's result and the run's success in one statement (PostgreSQL)."""
        try:
            stored, truncated, _whole = cap_output(output)
        except Unrecordable as problem:
            self._unsaved(record, started, problem)
        if truncated:
            # The whole output goes in a row of its own: the usual way, then the run's end.
            self._close(record, started, StepRun.Status.SUCCEEDED, output)
            self.finish(Run.Status.SUCCEEDED)
        now = timezone.now()
        output_field = StepRun._meta.get_field("output")
        sql = _CLOSE_FINISH_SQL.format(run=Run._meta.db_table, step=StepRun._meta.db_table)
        params = [
            StepRun.Status.SUCCEEDED.value,
            output_field.get_db_prep_save(stored, connection),
            truncated,
            int((time.monotonic() - started) * 1000),
            now,
            record.pk,
            Run.Status.SUCCEEDED.value,
            now,
            self.run.id,
            self.owner,
        ]
        try:
            with _savepoint(), connection.cursor() as cursor:
                cursor.execute(sql, params)
        except DatabaseError as problem:
            self._unsaved(record, started, problem)
        self.result = Run.Status.SUCCEEDED
        raise _Stop

    def _call(
        self, step: dict, config: dict, slot: _Slot, resumed: bool, time_left: float
    ) -> tuple[Any, dict | None]:
        if step["app"] == "builtin" and step["action"] in STRUCTURAL:
            if step["action"] == "loop":
                items, truncated = loop_items(config, settings.ENGINE_LOOP_MAX_ITEMS)
                return {"count": len(items), "truncated": truncated}, None
            branch = choose_branch(config)
            return {"branch": branch.get("name") if branch else None}, branch or {}
        integration = registry.get(step["app"])
        action = integration.action(step["action"])
        connection = self.connection_for(step)
        if step.get("connection") and connection is None:
            raise IntegrationError(
                f"There is no {integration.name or step['app']} connection called "
                f"“{step['connection']}”; connect it under Connections.",
                permanent=True,
            )
        ctx = Context(
            workspace_id=self.run.workspace_id,
            # Secret fields are opened here, as the step runs, and nowhere else.
            config=secrets.reveal(step, config, self.run.workspace_id),
            connection=connection,
            run_id=self.run.id,
            step_key=slot.key,
            integration=integration,
            resumed=resumed,
        )
        if connection is not None:
            # Fresh before the step's timer starts: a refresh the timer cut short could lose
            # the rotated refresh token the app had already issued (docs/engine.md).
            connection.fresh_token()
        refreshed = False
        while True:
            try:
                with step_timeout(time_left, limit=settings.ENGINE_STEP_TIMEOUT_SECONDS):
                    return action.run(ctx), None
            except IntegrationError as error:
                # A permanent reauth error means the connection is already unusable.
                if not error.reauth or error.permanent or connection is None or refreshed:
                    raise
                refreshed = True
                if not _refresh(connection):
                    raise
                log.info("Run %s step %s: token refreshed, trying again", self.run.id, slot.key)

    def _close(
        self,
        record: StepRun,
        started: float,
        status: str,
        output: Any,
        *,
        error: str | Message = "",
        finished: bool = True,
    ) -> Any:
        """Record the attempt's result; returns the output later steps map from (whole)."""
        try:
            stored, truncated, whole = (
                cap_output(output) if output is not None else (None, False, None)
            )
        except Unrecordable as problem:
            self._unsaved(record, started, problem)
        elapsed = int((time.monotonic() - started) * 1000)
        updates: dict[str, Any] = {
            "status": status,
            "output": stored,
            "output_truncated": truncated,
            "error": str(error)[:5000],
            "error_message": to_json(error),
            "duration_ms": elapsed,
        }
        if finished:
            updates["finished_at"] = timezone.now()
        try:
            # The row and the whole output it points to are written together.
            with transaction.atomic() if truncated else _savepoint():
                if record.pk is None:
                    for name, value in updates.items():
                        setattr(record, name, value)
                    record.save(force_insert=True)
                else:
                    StepRun.objects.filter(id=record.id).update(**updates)
                if truncated:
                    StepOutput.objects.update_or_create(step_id=record.pk, defaults={"data": whole})
        except DatabaseError as problem:
            self._unsaved(record, started, problem)
        return whole

    def _unsaved(
        self, record: StepRun, started: float, problem: Exception, *, what: str = "result"
    ) -> None:
        """The database refused the attempt's row, or its result cannot be kept: fail the
        step and the run, saying why, instead of leaving the run "running" until its
        deadline (every later try would be refused the same way)."""
        if isinstance(problem, Unrecordable):
            message = str(problem)
        else:
            log.warning("Run %s step %s: could not save its %s", self.run.id, record.key, what)
            reason = (str(problem).strip().splitlines() or [type(problem).__name__])[0]
            text = {
                "result": gettext_noop("The step's result could not be saved: %(reason)s"),
                "input": gettext_noop("The step's input could not be saved: %(reason)s"),
            }.get(what, gettext_noop("The step could not be saved: %(reason)s"))
            message = Message(text, reason=reason[:300])
        updates: dict[str, Any] = {
            "status": StepRun.Status.FAILED,
            "output": None,
            "output_truncated": False,
            "error": str(message)[:5000],
            "error_message": to_json(message),
            "finished_at": timezone.now(),
            "duration_ms": int((time.monotonic() - started) * 1000),
        }
        with contextlib.suppress(DatabaseError), _savepoint():
            if record.pk is None:
                # Whatever was refused is left out: the row keeps the step and the reason.
                record.input = None
                for name, value in updates.items():
                    setattr(record, name, value)
                record.save(force_insert=True)
            else:
                StepRun.objects.filter(id=record.pk).update(**updates)
        self.finish(Run.Status.FAILED, _in_step(record.key, message), record.key)

    def _attempt_row(self, slot, step, attempt, config, **fields) -> StepRun:
        """An unsaved StepRun for one attempt of the step at ``slot``."""
        return StepRun(
            run=self.run,
            key=slot.key,
            position=slot.position,
            item=slot.item,
            app=step["app"],
            action=step["action"],
            attempt=attempt,
            input=secrets.redact(step, config),
            **fields,
        )

    def _record_failure(self, slot, step, attempt, config, message) -> None:
        now = timezone.now()
        self._attempt_row(
            slot,
            step,
            attempt,
            config,
            status=StepRun.Status.FAILED,
            error=str(message)[:5000],
            error_message=to_json(message),
            started_at=now,
            finished_at=now,
            duration_ms=0,
        ).save(force_insert=True)

    def _failed(self, record, started, slot, step, error: IntegrationError, attempt: int) -> None:
        message = error.message  # the app's own words (or a Message of ours), as they are
        if error.reauth:
            connection = self.connection_for(step)
            reason = Message(
                gettext_noop("The app no longer accepts this connection: %(detail)s"),
                detail=message,
            )
            if connection is not None:
                _mark_broken(connection, str(reason))
            self._close(record, started, StepRun.Status.FAILED, None, error=reason)
            self.finish(
                Run.Status.FAILED,
                Message(
                    gettext_noop("Step “%(step)s”: the connection needs reconnecting (%(detail)s)"),
                    step=slot.key,
                    detail=message,
                ),
                slot.key,
            )
        if error.permanent or attempt >= settings.ENGINE_MAX_ATTEMPTS:
            if not error.permanent:
                message = Message(
                    gettext_noop("%(detail)s (gave up after %(attempts)s attempts)"),
                    detail=message,
                    attempts=attempt,
                )
            self._close(record, started, StepRun.Status.FAILED, None, error=message)
            self.finish(Run.Status.FAILED, _in_step(slot.key, message), slot.key)
        delay = backoff_seconds(attempt, error.retry_after)
        note = Message(
            gettext_noop("%(detail)s — trying again in %(seconds)s s"),
            detail=message,
            seconds=f"{delay:.1f}",
        )
        self._close(record, started, StepRun.Status.RETRYING, None, error=note)
        self.park(timezone.now() + timedelta(seconds=delay))

    # -- the walk -----------------------------------------------------------------------

    def walk(self) -> None:
        run = self.run
        data: dict[str, Any] = {
            "trigger": run.trigger_data,
            "steps": {},
            "run": {"id": run.id, "recipe": _recipe_name(run)},
        }
        outputs: dict[str, Any] = data["steps"]
        skipped: set[str] = set()
        loop_at = next(
            (i for i, s in enumerate(self.steps) if (s["app"], s["action"]) == ("builtin", "loop")),
            None,
        )
        head = self.steps if loop_at is None else self.steps[: loop_at + 1]
        for position, step in enumerate(head):
            last = loop_at is None and position == len(head) - 1
            slot = _Slot(step["key"], position, None)
            output, branch = self.run_slot(slot, step, data, skipped, last=last)
            outputs[step["key"]] = output
            self._note_branch(step, output, branch, skipped)
        if loop_at is not None:
            loop_step = self.steps[loop_at]
            key = loop_step["key"]
            try:
                config = _render_within(loop_step, data, key, settings.ENGINE_STEP_TIMEOUT_SECONDS)
            except MappingError as error:
                self.finish(Run.Status.FAILED, f"Step “{key}”: {error}", key)
            items, _ = loop_items(config, settings.ENGINE_LOOP_MAX_ITEMS)
            before = dict(outputs)
            tail = list(enumerate(self.steps))[loop_at + 1 :]
            for item_index, item in enumerate(items):
                data["loop"] = {"item": item, "index": item_index, "count": len(items)}
                data["steps"] = outputs = dict(before)
                skipped_here = set(skipped)
                for position, step in tail:
                    slot = _Slot(step["key"], position, item_index)
                    output, branch = self.run_slot(slot, step, data, skipped_here)
                    outputs[step["key"]] = output
                    self._note_branch(step, output, branch, skipped_here)
        self.finish(Run.Status.SUCCEEDED)

    def _note_branch(self, step: dict, output: Any, branch: dict | None, skipped: set[str]):
        if (step["app"], step["action"]) != ("builtin", "paths"):
            return
        taken = (output or {}).get("branch")
        for candidate in (step.get("config") or {}).get("branches") or []:
            if candidate.get("name") != taken:
                skipped.update(candidate.get("steps") or [])


# Table and column names come from the models; every value is a parameter.
_RENEW_INSERT_SQL = """
WITH lease AS (
    UPDATE {run} SET lease_expires = %s
    WHERE id = %s AND lease_owner = %s AND NOT cancel_requested RETURNING id
)
INSERT INTO {step} ({columns}) SELECT {values} FROM lease RETURNING id
"""
_CLOSE_FINISH_SQL = """
WITH step AS (
    UPDATE {step} SET status = %s, output = %s, output_truncated = %s, error = '',
        duration_ms = %s, finished_at = %s
    WHERE id = %s RETURNING id
)
UPDATE {run} SET status = %s, error = '', failed_step = '', finished_at = %s, lease_owner = '',
    lease_expires = NULL, resume_at = NULL
WHERE id = %s AND lease_owner = %s
"""


def _in_step(key: str, detail: str | Message) -> Message:
    return Message(gettext_noop("Step “%(step)s”: %(detail)s"), step=key, detail=detail)


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


def _render_within(step: dict, data: dict, key: str, seconds: float) -> dict:
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


def _merged_statements() -> bool:
    """PostgreSQL runs an UPDATE inside a WITH clause; SQLite does not."""
    return connection.vendor == "postgresql"


def _recipe_name(run: Run) -> str:
    name = getattr(run, "recipe_name", None)
    return name if name is not None else run.recipe.name


def _refresh(connection) -> bool:
    try:
        connection.refresh(force=True)
    except Exception as error:
        log.info("Token refresh failed for connection %s: %s", connection.pk, error)
        return False
    return True


def _pause_version(version_id: int, reason: str) -> None:
    from hub.recipes.services import pause_for

    try:
        pause_for(version_id, reason)
    except Exception:
        log.exception("Could not pause the recipe of version %s", version_id)


def _mark_broken(connection, reason: str) -> None:
    try:
        connection.mark_broken(reason)
    except Exception:
        log.exception("Could not mark connection %s broken", connection.pk)


_CLAIM_SQL = """
UPDATE {run} SET status = %s, lease_owner = %s, lease_expires = %s, resume_at = NULL,
    started_at = COALESCE(started_at, %s)
WHERE id = %s AND status IN (%s, %s, %s) AND NOT cancel_requested
    AND (lease_expires IS NULL OR lease_expires < %s)
    AND (resume_at IS NULL OR resume_at <= %s)
RETURNING {columns},
    (SELECT name FROM {recipe} WHERE {recipe}.id = {run}.recipe_id) AS recipe_name,
    (SELECT document FROM {version} WHERE {version}.id = {run}.version_id) AS version_document,
    EXISTS (SELECT 1 FROM {step} WHERE {step}.run_id = {run}.id) AS has_steps
"""


def _claim_sql() -> str:
    from hub.recipes.models import Recipe, RecipeVersion

    if not hasattr(_claim_sql, "text"):
        _claim_sql.text = _CLAIM_SQL.format(
            run=Run._meta.db_table,
            recipe=Recipe._meta.db_table,
            version=RecipeVersion._meta.db_table,
            step=StepRun._meta.db_table,
            columns=", ".join(f.column for f in Run._meta.concrete_fields),
        )
    return _claim_sql.text


def claim(run_id: int, owner: str) -> Run | None:
    """Claim the run with a lease and load it, in one conditional UPDATE … RETURNING: the
    row changes for one worker only. Returns the run (with ``recipe_name``, the version's
    ``version_document`` and ``has_steps``, whether any step row exists yet), or None when it
    was not claimed."""
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
    with contextlib.suppress(_Stop):
        execution.walk()
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
