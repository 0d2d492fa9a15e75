"""A step attempt's record: its StepRun row, written as "running" only while the worker holds
the lease, and closed with the attempt's result (docs/engine.md, "Running a recipe").

On PostgreSQL the lease renewal and the INSERT of the "running" row are one statement, and the
last step's result is written in the statement that ends the run. On SQLite the renewal and
the INSERT are one IMMEDIATE transaction, which takes the write lock before the lease is read.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from hub.engine import secrets
from hub.engine.compiled_sql import RowInsert, RowUpdate
from hub.engine.leases import Execution, Stop
from hub.engine.messages import Message, gettext_noop, to_json
from hub.engine.models import Run, StepOutput, StepRun
from hub.engine.outputs import Unrecordable, cap_output

log = logging.getLogger(__name__)


@dataclass
class Slot:
    """Where an attempt belongs: the step's key and position, and the loop item it runs for."""

    key: str
    position: int
    item: int | None


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


# Every step attempt's row is written and closed by these, built once (compiled_sql, "Scale").
_INSERT_STEP = RowInsert(StepRun)
_RESULT = ("status", "output", "output_truncated", "error", "error_message", "duration_ms")
_CLOSE = RowUpdate(StepRun, _RESULT)
_CLOSE_FINISHED = RowUpdate(StepRun, (*_RESULT, "finished_at"))


def _renew_insert_sql() -> tuple[str, list]:
    if not hasattr(_renew_insert_sql, "built"):
        fields = [f for f in StepRun._meta.concrete_fields if not f.primary_key]
        sql = _RENEW_INSERT_SQL.format(
            run=Run._meta.db_table,
            step=StepRun._meta.db_table,
            columns=", ".join(f.column for f in fields),
            values=", ".join(["%s"] * len(fields)),
        )
        _renew_insert_sql.built = (sql, fields)
    return _renew_insert_sql.built


def merged_statements() -> bool:
    """PostgreSQL runs an UPDATE inside a WITH clause; SQLite does not."""
    return connection.vendor == "postgresql"


def savepoint():
    """Inside a caller's transaction (tests, a command) a savepoint, so a write the database
    refuses is undone and the run can still be failed; in autocommit a refused statement
    leaves nothing behind, and no statement is added."""
    return transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()


def in_step(key: str, detail: str | Message) -> Message:
    return Message(gettext_noop("Step “%(step)s”: %(detail)s"), step=key, detail=detail)


def attempt_row(execution: Execution, slot: Slot, step, attempt, config, **fields) -> StepRun:
    """An unsaved StepRun for one attempt of the step at ``slot``."""
    return StepRun(
        run=execution.run,
        key=slot.key,
        position=slot.position,
        item=slot.item,
        app=step["app"],
        action=step["action"],
        attempt=attempt,
        input=secrets.redact(step, config),
        **fields,
    )


def record_failure(execution: Execution, slot: Slot, step, attempt, config, message) -> None:
    now = timezone.now()
    attempt_row(
        execution,
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


def renew_and_insert(execution: Execution, record: StepRun, *, resumed: bool = False) -> bool:
    """Extend the lease (noticing a cancel request) and, only if that succeeded, write
    the attempt's "running" row (insert it, or for a resumed wait set it back to
    running). False when the lease was not ours or a cancel was requested (nothing
    written). One statement on PostgreSQL; elsewhere one transaction, which on SQLite
    takes the write lock before the lease is read, so no other worker claims between."""
    now = timezone.now()
    lease = execution.lease
    if resumed or not merged_statements():
        with transaction.atomic():
            if not execution.renew_lease(now):
                return False
            if not resumed:
                _INSERT_STEP.save(record)
            elif not StepRun.objects.filter(id=record.id, status=StepRun.Status.WAITING).update(
                status=StepRun.Status.RUNNING
            ):
                return False
        execution.lease_until = now + lease
        return True
    sql, fields = _renew_insert_sql()
    params = [now + lease, execution.run.id, execution.owner]
    params += [f.get_db_prep_save(getattr(record, f.attname), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return False
    record.pk = row[0]
    record._state.adding = False
    execution.lease_until = now + lease
    return True


def close_and_finish(execution: Execution, record: StepRun, started: float, output: Any) -> None:
    """The last step's result and the run's success in one statement (PostgreSQL)."""
    try:
        stored, truncated, _whole = cap_output(output)
    except Unrecordable as problem:
        unsaved(execution, record, started, problem)
    if truncated:
        # The whole output goes in a row of its own: the usual way, then the run's end.
        close(execution, record, started, StepRun.Status.SUCCEEDED, output)
        execution.finish(Run.Status.SUCCEEDED)
    now = timezone.now()
    output_field = StepRun._meta.get_field("output")
    if not hasattr(close_and_finish, "sql"):
        close_and_finish.sql = _CLOSE_FINISH_SQL.format(
            run=Run._meta.db_table, step=StepRun._meta.db_table
        )
    sql = close_and_finish.sql
    params = [
        StepRun.Status.SUCCEEDED.value,
        output_field.get_db_prep_save(stored, connection),
        truncated,
        int((time.monotonic() - started) * 1000),
        now,
        record.pk,
        Run.Status.SUCCEEDED.value,
        now,
        execution.run.id,
        execution.owner,
    ]
    try:
        with savepoint(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError as problem:
        unsaved(execution, record, started, problem)
    execution.result = Run.Status.SUCCEEDED
    raise Stop


def close(
    execution: Execution,
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
        stored, truncated, whole = cap_output(output) if output is not None else (None, False, None)
    except Unrecordable as problem:
        unsaved(execution, record, started, problem)
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
        with transaction.atomic() if truncated else savepoint():
            if record.pk is None:
                for name, value in updates.items():
                    setattr(record, name, value)
                _INSERT_STEP.save(record)
            else:
                (_CLOSE_FINISHED if finished else _CLOSE).update(record.pk, updates)
            if truncated:
                StepOutput.objects.update_or_create(step_id=record.pk, defaults={"data": whole})
    except DatabaseError as problem:
        unsaved(execution, record, started, problem)
    return whole


def unsaved(
    execution: Execution,
    record: StepRun,
    started: float,
    problem: Exception,
    *,
    what: str = "result",
) -> None:
    """The database refused the attempt's row, or its result cannot be kept: fail the
    step and the run, saying why, instead of leaving the run "running" until its
    deadline (every later try would be refused the same way)."""
    if isinstance(problem, Unrecordable):
        message = str(problem)
    else:
        log.warning("Run %s step %s: could not save its %s", execution.run.id, record.key, what)
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
    with contextlib.suppress(DatabaseError), savepoint():
        if record.pk is None:
            # Whatever was refused is left out: the row keeps the step and the reason.
            record.input = None
            for name, value in updates.items():
                setattr(record, name, value)
            record.save(force_insert=True)
        else:
            StepRun.objects.filter(id=record.pk).update(**updates)
    execution.finish(Run.Status.FAILED, in_step(record.key, message), record.key)
