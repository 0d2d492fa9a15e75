"""A step is called once even when a second worker takes the run over mid-step, on every
backend: the attempt's "running" row is written only while the worker still holds the lease."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from hub.engine import executor, leases, step_attempt
from hub.engine.models import Run
from hub.engine.runs import start_run
from tests.conftest import make_recipe


def _recipe(workspace):
    return make_recipe(
        workspace,
        [{"key": "post", "app": "kit", "action": "echo", "config": {"text": "{{ trigger.t }}"}}],
    )


def _takeover_during_render(monkeypatch, run_id, *, finish_it: bool):
    """While the first worker renders the step's fields, its lease runs out and a second
    worker claims the run (and, with ``finish_it``, runs it to the end)."""
    real_render = step_attempt.render
    seen = {"outcome": None}

    def render(*args, **kwargs):
        result = real_render(*args, **kwargs)
        if seen["outcome"] is None:
            seen["outcome"] = "claimed"
            Run.objects.filter(id=run_id).update(lease_expires=timezone.now() - timedelta(1))
            if finish_it:
                seen["outcome"] = executor.execute(run_id, owner="second-worker")
            else:
                assert leases.claim(run_id, "second-worker") is not None
        return result

    monkeypatch.setattr(step_attempt, "render", render)
    return seen


@pytest.mark.parametrize("finish_it", [True, False], ids=["second-finishes", "second-claims"])
def test_a_second_worker_claiming_mid_step_means_one_call(workspace, kit, monkeypatch, finish_it):
    recipe = _recipe(workspace)
    run = start_run(recipe, Run.Source.MANUAL, {"t": "hello"})
    seen = _takeover_during_render(monkeypatch, run.id, finish_it=finish_it)

    assert executor.execute(run.id, owner="first-worker") == "lease-lost"

    assert len(kit.calls) == (1 if finish_it else 0)
    run.refresh_from_db()
    if finish_it:
        assert seen["outcome"] == "succeeded"
        assert run.status == "succeeded"
        assert list(run.steps.values_list("status", flat=True)) == ["succeeded"]
    else:
        # The first worker left nothing behind: the run is the second worker's to execute.
        assert run.lease_owner == "second-worker"
        assert not run.steps.exists()


def test_a_resumed_wait_is_not_called_again_after_a_takeover(workspace, kit, monkeypatch):
    """The same holds for a step resumed after a wait (its row goes back to running)."""
    recipe = make_recipe(
        workspace, [{"key": "pause", "app": "kit", "action": "wait", "config": {"seconds": 1}}]
    )
    run = start_run(recipe, Run.Source.MANUAL, {})
    assert executor.execute(run.id) == "waiting"
    Run.objects.filter(id=run.id).update(resume_at=timezone.now() - timedelta(seconds=1))
    kit.calls.clear()
    _takeover_during_render(monkeypatch, run.id, finish_it=True)

    assert executor.execute(run.id, owner="first-worker") == "lease-lost"

    assert kit.calls == [("pause", {"resumed": True})]
    run.refresh_from_db()
    assert run.status == "succeeded"
