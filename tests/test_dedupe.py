"""Exactly once beyond run retention: dedupe keys are kept apart from run history, with their
own lifetime (ENGINE_DEDUPE_DAYS), so pruning old runs never lets an event fire again."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from hub.engine.executor import execute
from hub.engine.models import DedupeKey, Run, TriggerState
from hub.engine.runs import replay, start_run
from hub.engine.scheduler import tick
from hub.engine.sweeper import prune
from tests.conftest import make_recipe


def age(runs, days):
    """Finish the runs ``days`` ago, so retention applies to them."""
    finished = timezone.now() - timedelta(days=days)
    runs.update(status=Run.Status.SUCCEEDED, finished_at=finished, created_at=finished)


def echo(key="a"):
    return {"key": key, "app": "kit", "action": "echo", "config": {"text": "hi"}}


def test_a_pruned_scheduled_run_does_not_fire_again(workspace, kit, settings):
    settings.ENGINE_RUN_RETENTION_DAYS = 30
    recipe = make_recipe(
        workspace,
        [echo()],
        trigger={"app": "schedule", "event": "cron", "config": {"cron": "*/5 * * * *"}},
    )
    due = TriggerState.objects.get(recipe=recipe).next_fire_at
    assert tick(due) == 1
    age(Run.objects.all(), 31)
    assert prune() == 1
    assert not Run.objects.exists()

    # The same due time comes round again (a restored trigger state, a second scheduler).
    TriggerState.objects.filter(recipe=recipe).update(next_fire_at=due)
    assert tick(due) == 0
    assert not Run.objects.exists()
    assert DedupeKey.objects.get().key == f"schedule:{recipe.pk}:{due.isoformat()}"


def test_a_pruned_webhook_run_is_not_started_again_by_its_idempotency_key(
    client, workspace, kit, settings
):
    settings.ENGINE_RUN_RETENTION_DAYS = 30
    recipe = make_recipe(workspace, [echo()], trigger={"app": "webhook", "event": "catch"})
    address = f"/hooks/{recipe.public_id}/{recipe.webhook_secret}"

    def post():
        return client.post(
            address,
            data=json.dumps({"n": 1}),
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="order-17",
        )

    assert post().status_code == 202
    age(Run.objects.all(), 31)
    assert prune() == 1
    again = post()
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert not Run.objects.exists()


def test_start_run_with_a_used_key_returns_none_after_pruning(workspace, kit):
    recipe = make_recipe(workspace, [echo()])
    first = start_run(recipe, Run.Source.MANUAL, {}, dedupe_key="poll:item-1")
    assert first is not None
    assert DedupeKey.objects.get(key="poll:item-1").run_id == first.id
    age(Run.objects.filter(id=first.id), 400)
    prune()
    assert not Run.objects.exists()
    assert DedupeKey.objects.get(key="poll:item-1").run_id is None
    assert start_run(recipe, Run.Source.MANUAL, {}, dedupe_key="poll:item-1") is None
    assert not Run.objects.exists()


def test_dedupe_keys_have_their_own_lifetime(workspace, kit, settings):
    settings.ENGINE_DEDUPE_DAYS = 400
    recipe = make_recipe(workspace, [echo()])
    old = start_run(recipe, Run.Source.MANUAL, {}, dedupe_key="old")
    start_run(recipe, Run.Source.MANUAL, {}, dedupe_key="recent")
    DedupeKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(days=401))
    DedupeKey.objects.filter(key="recent").update(created_at=timezone.now() - timedelta(days=399))
    age(Run.objects.all(), 500)
    prune()
    assert list(DedupeKey.objects.values_list("key", flat=True)) == ["recent"]
    # Past its lifetime the key may be used again.
    assert start_run(recipe, Run.Source.MANUAL, {}, dedupe_key="old") is not None
    assert old.pk not in Run.objects.values_list("id", flat=True)


def test_runs_without_a_dedupe_key_record_none(workspace, kit):
    """Run now and replay have no event to dedupe: the table grows only with keyed runs."""
    recipe = make_recipe(
        workspace, [{"key": "call", "app": "kit", "action": "flaky", "config": {"permanent": True}}]
    )
    kit.failures["call"] = 1
    run = start_run(recipe, Run.Source.MANUAL, {})
    assert execute(run.id) == "failed"
    again = replay(run)
    assert again.source == "replay" and again.replay_of_id == run.id
    assert execute(again.id) == "succeeded"
    assert not DedupeKey.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_key_and_the_run_are_written_together(workspace, kit, monkeypatch):
    """A failing run insert leaves no key behind, so a retried event is not lost."""
    recipe = make_recipe(workspace, [echo()])
    from hub.engine.runs import _INSERT_RUN  # the one statement that inserts runs

    def broken(values):
        raise RuntimeError("database went away")

    monkeypatch.setattr(_INSERT_RUN, "insert", broken)
    with pytest.raises(RuntimeError):
        start_run(recipe, Run.Source.WEBHOOK, {}, dedupe_key="webhook:k")
    monkeypatch.undo()
    assert not DedupeKey.objects.exists()
    assert start_run(recipe, Run.Source.WEBHOOK, {}, dedupe_key="webhook:k") is not None
