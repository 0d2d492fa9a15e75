"""Bad numbers and unrecordable results: the number filter refuses NaN and infinity, and a
step whose input or result cannot be saved fails the run with a clear message instead of
leaving it "running" until its deadline."""

from __future__ import annotations

import dataclasses
import math

import pytest
from django.db import DatabaseError

from hub.engine import step_record
from hub.engine.executor import execute
from hub.engine.models import Run, StepRun
from hub.engine.runs import start_run
from hub.mapping import MappingError, render
from tests.conftest import make_recipe, using_postgres


@pytest.mark.parametrize("text", ["1e999", "-1e999", "1.5e400"])
def test_the_number_filter_refuses_numbers_too_large_to_hold(text):
    with pytest.raises(MappingError, match="too large"):
        render({"n": "{{ trigger.x | number }}"}, {"trigger": {"x": text}}, step="calc")
    with pytest.raises(MappingError, match="too large"):
        render("{{ trigger.x | round:2 }}", {"trigger": {"x": text}})


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_non_finite_numbers_in_data_are_refused_wherever_they_go(value):
    data = {"trigger": {"x": value, "list": [1, value]}}
    for template in (
        "{{ trigger.x }}",
        "total: {{ trigger.x }}",
        "{{ trigger.list }}",
        "{{ trigger.list | json }}",
        "{{ trigger.x | number }}",
        "{{ trigger.x | text }}",
    ):
        with pytest.raises(MappingError, match="not a finite number"):
            render(template, data)
    with pytest.raises(MappingError, match="not a finite number"):
        render({"fixed": value}, data)


def test_ordinary_numbers_still_read():
    data = {"trigger": {"x": "1,234.50", "e": "1e300", "i": "12345678901234567890"}}
    assert render("{{ trigger.x | number }}", data) == 1234.5
    assert render("{{ trigger.e | number }}", data) == 1e300
    assert render("{{ trigger.i | number }}", data) == 12345678901234567890


# ------------------------------------------------------------------ in the engine


def _one_step(workspace, config):
    return make_recipe(
        workspace, [{"key": "calc", "app": "kit", "action": "echo", "config": config}]
    )


def test_a_number_too_large_fails_the_run_at_once(workspace, kit):
    recipe = _one_step(workspace, {"value": "{{ trigger.x | number }}"})
    run = start_run(recipe, Run.Source.MANUAL, {"x": "1e999"})
    assert execute(run.id) == "failed"
    run.refresh_from_db()
    assert run.status == "failed" and run.failed_step == "calc"
    assert "too large" in run.error
    assert kit.calls == []


def _returning(kit, monkeypatch, output):
    original = kit.action
    monkeypatch.setattr(
        kit,
        "action",
        lambda self, key: dataclasses.replace(original(self, key), run=lambda ctx: output),
    )


def test_a_result_holding_nan_fails_the_step_clearly(workspace, kit, monkeypatch):
    _returning(kit, monkeypatch, {"ratio": math.nan, "ok": True})
    recipe = _one_step(workspace, {"text": "x"})
    run = start_run(recipe, Run.Source.MANUAL, {})
    assert execute(run.id) == "failed"
    run.refresh_from_db()
    assert run.status == "failed" and run.failed_step == "calc"
    assert "could not be saved" in run.error and "not a finite number" in run.error
    step = run.steps.get()
    assert step.status == "failed" and "not a finite number" in step.error
    assert run.lease_owner == "" and run.finished_at is not None


def test_a_database_error_while_recording_a_result_fails_the_run(workspace, kit, monkeypatch):
    """Any refusal by the database (here forced, at the UPDATE that records the result)
    fails the step and the run."""
    from hub.engine.compiled_sql import RowUpdate

    real_update = RowUpdate.update
    refused = []

    def update(self, pk, values, *matching):
        if self.model is StepRun and values.get("status") == "succeeded" and not refused:
            refused.append(values)
            raise DatabaseError("value out of range")
        return real_update(self, pk, values, *matching)

    monkeypatch.setattr(RowUpdate, "update", update)
    recipe = make_recipe(
        workspace,
        [
            {"key": "a", "app": "kit", "action": "echo", "config": {"text": "1"}},
            {"key": "b", "app": "kit", "action": "echo", "config": {"text": "2"}},
        ],
    )
    run = start_run(recipe, Run.Source.MANUAL, {})
    assert execute(run.id) == "failed"
    assert refused
    run.refresh_from_db()
    assert run.failed_step == "a"
    assert "could not be saved" in run.error and "value out of range" in run.error
    assert [c[0] for c in kit.calls] == ["a"]
    assert run.steps.get(key="a").status == "failed"


def test_a_database_error_writing_the_running_row_fails_the_run(workspace, kit, monkeypatch):
    def refuse(execution, record, **kwargs):
        raise DatabaseError("disk I/O error")

    monkeypatch.setattr(step_record, "renew_and_insert", refuse)
    recipe = _one_step(workspace, {"text": "x"})
    run = start_run(recipe, Run.Source.MANUAL, {})
    assert execute(run.id) == "failed"
    run.refresh_from_db()
    assert run.status == "failed" and "could not be saved" in run.error
    assert kit.calls == []


@pytest.mark.skipif("not using_postgres()")
@pytest.mark.django_db(transaction=True)
def test_a_result_postgresql_refuses_fails_the_run(workspace, kit, monkeypatch):
    """PostgreSQL's JSONB holds no NUL character: the database itself refuses the result."""
    assert using_postgres()
    _returning(kit, monkeypatch, {"text": "before\x00after"})
    recipe = _one_step(workspace, {"text": "x"})
    run = start_run(recipe, Run.Source.MANUAL, {})
    assert execute(run.id) == "failed"
    run.refresh_from_db()
    assert run.status == "failed" and "could not be saved" in run.error
    assert run.steps.get().status == "failed"
