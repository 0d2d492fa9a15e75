"""The mapping budget counts the work filters do, not only what a render produces, and the
engine renders a step's fields within the step's time limit. Work is measured by counting
what each filter reads and writes, never by the clock."""

from __future__ import annotations

import dataclasses
import time

import pytest

from hub.engine.executor import execute
from hub.engine.models import Run
from hub.engine.runs import start_run
from hub.mapping import MappingError, filters, render
from hub.mapping.budget import MAX_WORK_CHARS, Budget
from tests.conftest import make_recipe

# The reproduction: one ~20 KB field, 100 references with 19 filters each, over a
# 1 MB trigger value. Unbounded, this took 80 s of CPU.
CHAIN = " | ".join(
    ["lower", "upper", "trim", "title", "strip_html", 'replace:"W","w"'] * 3 + ["length"]
)
REFERENCE = "{{ trigger.body | " + CHAIN + " }}"
FIELD = "\n".join(f"Part {i}: {REFERENCE} {'.' * 20}" for i in range(100))
DATA = {"trigger": {"body": "word " * 200_000}}


class Runaway(BaseException):
    """Raised by the meter when the filters do far more work than the budget allows, so a
    missing bound fails the test at once instead of running for minutes."""


def _size(value) -> int:
    if isinstance(value, str | list | tuple | dict):
        return len(value)
    return 1


@pytest.fixture
def filter_work(monkeypatch):
    """Characters each filter call actually read and wrote, counted beside the code under
    test (not by it)."""
    counted = {"chars": 0, "calls": 0}

    def metered(func):
        def run(value, *args):
            counted["calls"] += 1
            counted["chars"] += _size(value)
            if counted["chars"] > 4 * MAX_WORK_CHARS:
                raise Runaway(f"filters read {counted['chars']:,} characters and counting")
            result = func(value, *args)
            counted["chars"] += _size(result)
            return result

        return run

    for name, spec in list(filters.FILTERS.items()):
        monkeypatch.setitem(
            filters.FILTERS, name, dataclasses.replace(spec, func=metered(spec.func))
        )
    return counted


def test_the_reproduction_fits_the_limits_on_template_size():
    assert 15_000 < len(FIELD) < 25_000
    assert FIELD.count("{{") == 100 and REFERENCE.count("|") == 19


def test_the_reproduction_is_refused_naming_the_step_and_field(filter_work):
    with pytest.raises(MappingError) as caught:
        render({"channel": "C1", "text": FIELD}, DATA, step="digest")
    message = str(caught.value)
    assert message.startswith("Step “digest”, field “text”: ")
    assert "work" in message
    # The budget stopped the filters near its limit: the work done stays bounded.
    assert filter_work["chars"] <= MAX_WORK_CHARS + 2 * len(DATA["trigger"]["body"])


def test_work_is_counted_across_the_fields_of_a_step(filter_work):
    """Splitting the work over many fields does not escape the budget: it is per step."""
    config = {f"f{i}": REFERENCE for i in range(100)}
    with pytest.raises(MappingError) as caught:
        render(config, DATA, step="digest")
    assert "field “f" in str(caught.value)
    assert filter_work["chars"] <= MAX_WORK_CHARS + 2 * len(DATA["trigger"]["body"])


def test_ordinary_work_over_large_data_still_renders(filter_work):
    config = {
        "summary": "{{ trigger.body | strip_html | truncate:20 }}",
        "size": "{{ trigger.body | length }}",
        "lines": "{{ trigger.body | lines | length }}",
    }
    assert render(config, DATA) == {
        "summary": "word word word word…",
        "size": 1_000_000,
        "lines": 1,
    }


def test_cheap_filters_are_not_charged_for_data_they_do_not_read():
    """length, first, last, truncate and slice look at a few characters of a huge value:
    a hundred of them over 1 MB cost nothing like 100 MB."""
    field = " ".join(
        "{{ trigger.body | length }}{{ trigger.body | truncate:3 }}" for _ in range(50)
    )
    budget = Budget()
    render(field, DATA, budget=budget)
    assert budget.work < 100_000


def test_the_work_counted_by_the_budget_matches_what_filters_do(filter_work):
    budget = Budget()
    render("{{ trigger.body | upper | lower | length }}", DATA, budget=budget)
    assert filter_work["calls"] == 3
    # upper and lower each read and wrote 1 MB.
    assert 4_000_000 <= budget.work <= 4_100_000


# ------------------------------------------------------------------ in the engine


def test_an_over_budget_field_fails_the_run_naming_step_and_field(workspace, kit, filter_work):
    recipe = make_recipe(
        workspace, [{"key": "digest", "app": "kit", "action": "echo", "config": {"text": FIELD}}]
    )
    run = start_run(recipe, Run.Source.MANUAL, DATA["trigger"])
    assert execute(run.id) == "failed"
    run.refresh_from_db()
    assert run.failed_step == "digest"
    assert "field “text”" in run.error and "work" in run.error
    assert kit.calls == []
    step = run.steps.get()
    assert step.status == "failed" and "field “text”" in step.error.lower()


def test_rendering_runs_within_the_step_time_limit(workspace, kit, settings, monkeypatch):
    """Whatever the budget does not foresee, the step's timer stops: a filter that keeps
    working is interrupted and the step fails, naming it, instead of holding the worker."""
    settings.ENGINE_STEP_TIMEOUT_SECONDS = 0.2
    rounds = {"n": 0}

    def stuck(value, *args):
        # Spins until interrupted; a safety cap keeps a missing timer from hanging the suite.
        cap = time.monotonic() + 5
        while time.monotonic() < cap:
            rounds["n"] += 1
        return value

    spec = filters.FILTERS["upper"]
    monkeypatch.setitem(filters.FILTERS, "upper", dataclasses.replace(spec, func=stuck))
    recipe = make_recipe(
        workspace,
        [
            {
                "key": "shout",
                "app": "kit",
                "action": "echo",
                "config": {"text": "{{ trigger.t | upper }}"},
            }
        ],
    )
    run = start_run(recipe, Run.Source.MANUAL, {"t": "hi"})
    assert execute(run.id) == "failed"
    run.refresh_from_db()
    assert run.failed_step == "shout"
    assert "filling in its fields took longer than" in run.error
    assert kit.calls == []


def test_a_call_that_runs_out_names_the_step_time_limit(workspace, kit, settings):
    """The call gets what rendering left of the limit; the message names the limit itself."""
    settings.ENGINE_STEP_TIMEOUT_SECONDS = 0.2
    recipe = make_recipe(
        workspace, [{"key": "a", "app": "kit", "action": "slow", "config": {"seconds": 2}}]
    )
    run = start_run(recipe, Run.Source.MANUAL, {})
    assert execute(run.id) == "waiting"
    assert run.steps.get().error.startswith("The step took longer than 0.2 s.")


def test_the_watchdog_leaves_nothing_pending_after_a_timeout():
    """After the watchdog interrupted a step on another thread, the interpreter is left as
    it was: tracing a call (a debugger, coverage, the line counts these tests use) works.
    Run in a child process, since the failure is a spin that never ends."""
    import os
    import subprocess
    import sys
    import textwrap

    from tests.conftest import ROOT

    script = textwrap.dedent(
        """
        import sys, threading, time
        import django
        django.setup()
        from hub.engine import timeouts
        from tests.bounded import lines_run

        def step():
            try:
                with timeouts.step_timeout(0.05):
                    while True:
                        time.sleep(0.01)
            except timeouts.StepTimeout:
                print("interrupted")

        thread = threading.Thread(target=step)
        thread.start()
        thread.join()
        def add(a, b):
            return a + b

        result, lines = lines_run(add, 1, 2, limit=100)
        print("traced", result)
        """
    )
    done = subprocess.run(  # noqa: S603  (our own interpreter and script)
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "hub.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.split() == ["interrupted", "traced", "3"], done.stderr[-2000:]
