"""Large outputs: the run page keeps a shortened preview, later steps map from the whole
output (also after a resume or a replay), and an output over the hard cap fails its step."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from hub.engine.executor import execute
from hub.engine.models import Run
from hub.engine.runs import replay, start_run
from tests.conftest import make_recipe

SIZE = 100_000  # over the 64 KB the page keeps


def _big_then_use(workspace, *between):
    return make_recipe(
        workspace,
        [
            {"key": "fetch", "app": "kit", "action": "big", "config": {"size": SIZE}},
            *between,
            {
                "key": "use",
                "app": "kit",
                "action": "echo",
                "config": {"text": "{{ steps.fetch.text | length }}"},
            },
        ],
    )


def test_a_later_step_maps_from_the_whole_of_a_large_output(workspace, kit):
    recipe = _big_then_use(workspace)
    run = start_run(recipe, Run.Source.MANUAL, {})
    assert execute(run.id) == "succeeded"
    assert kit.calls == [("use", {"text": SIZE})]
    fetch = run.steps.get(key="fetch")
    # What the run page shows stays short.
    assert fetch.output_truncated and fetch.output["truncated"] is True
    assert len(fetch.output["preview"]) <= 2000


def test_the_run_page_shows_the_preview_not_the_whole_output(member_client, workspace, kit):
    run = start_run(_big_then_use(workspace), Run.Source.MANUAL, {})
    execute(run.id)
    page = member_client.get(f"/runs/{run.id}/")
    assert page.status_code == 200
    assert len(page.content) < SIZE
    assert "shortened" in page.content.decode()


def test_a_resumed_run_maps_from_the_whole_output(workspace, kit):
    recipe = _big_then_use(
        workspace, {"key": "pause", "app": "kit", "action": "wait", "config": {"seconds": 5}}
    )
    run = start_run(recipe, Run.Source.MANUAL, {})
    assert execute(run.id) == "waiting"
    Run.objects.filter(id=run.id).update(resume_at=timezone.now() - timedelta(seconds=1))
    # Another worker (nothing in memory) goes on from the stored rows.
    assert execute(run.id, owner="another-worker") == "succeeded"
    assert kit.calls[-1] == ("use", {"text": SIZE})


def test_a_replay_maps_from_the_whole_output_of_a_carried_step(workspace, kit):
    kit.failures["flaky"] = 1
    recipe = _big_then_use(
        workspace, {"key": "flaky", "app": "kit", "action": "flaky", "config": {"permanent": True}}
    )
    run = start_run(recipe, Run.Source.MANUAL, {})
    assert execute(run.id) == "failed"
    again = replay(run)
    assert execute(again.id) == "succeeded"
    assert kit.calls[-1] == ("use", {"text": SIZE})
    assert again.steps.get(key="fetch").output_truncated


def test_an_output_over_the_hard_cap_fails_its_step_clearly(workspace, kit, settings):
    settings.ENGINE_OUTPUT_HARD_MAX_BYTES = 50 * 1024
    recipe = _big_then_use(workspace)
    run = start_run(recipe, Run.Source.MANUAL, {})
    assert execute(run.id) == "failed"
    run.refresh_from_db()
    assert run.failed_step == "fetch"
    assert "at most" in run.error and "50 KB" in run.error
    assert [key for key, _ in kit.calls] == []  # "use" never ran
    assert run.steps.get(key="fetch").status == "failed"


def test_the_hard_cap_has_a_documented_default(settings):
    from pathlib import Path

    assert settings.ENGINE_OUTPUT_HARD_MAX_BYTES == 5 * 1024 * 1024
    docs = (Path(__file__).resolve().parent.parent / "docs" / "engine.md").read_text()
    assert "ENGINE_OUTPUT_HARD_MAX_BYTES" in docs
