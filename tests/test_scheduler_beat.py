"""The scheduler process runs the tick itself, and one tick fires everything that is due,
however many schedules share a due time — not one batch per tick."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from hub.celery import app
from hub.engine import scheduler
from hub.engine.models import DedupeKey, Run, TriggerState
from hub.engine.scheduler import tick_until_done
from hub.system.models import Heartbeat
from hub.system.scheduler import HeartbeatScheduler
from tests.test_scheduler import cron_recipe


def test_one_tick_fires_every_due_schedule_in_batches(workspace, kit, monkeypatch):
    monkeypatch.setattr(scheduler, "BATCH", 7)
    recipes = [cron_recipe(workspace, kit, "* * * * *", name=f"Minutely {i}") for i in range(30)]
    TriggerState.objects.update(next_fire_at=timezone.now() - timedelta(seconds=1))
    assert tick_until_done() == 30
    assert sorted(Run.objects.values_list("recipe_id", flat=True)) == sorted(r.pk for r in recipes)
    assert tick_until_done() == 0  # each moved on to its next minute


def test_beat_ticks_the_engine_and_records_its_heartbeat(
    workspace, kit, tmp_path, settings, monkeypatch
):
    settings.ENGINE_TICK_SECONDS = 1
    # Beat drops stale connections after each tick; the test's connection holds its
    # transaction.
    monkeypatch.setattr("django.db.close_old_connections", lambda: None)
    recipe = cron_recipe(workspace, kit, "* * * * *")
    TriggerState.objects.filter(recipe=recipe).update(
        next_fire_at=timezone.now() - timedelta(seconds=1)
    )
    beat = HeartbeatScheduler(app=app, schedule_filename=str(tmp_path / "beat"), lazy=True)
    beat.setup_schedule()
    wait = beat.tick()
    assert Run.objects.filter(recipe=recipe).count() == 1
    assert Heartbeat.objects.filter(component="scheduler").exists()
    assert wait <= 1
    beat.close()


def test_a_key_used_before_skips_only_its_own_run_in_the_batch(workspace, kit):
    recipes = [cron_recipe(workspace, kit, "* * * * *", name=f"Minutely {i}") for i in range(5)]
    due = timezone.now().replace(microsecond=0) - timedelta(seconds=1)
    TriggerState.objects.update(next_fire_at=due)
    DedupeKey.objects.create(
        recipe=recipes[2], key=f"schedule:{recipes[2].pk}:{due.isoformat()}", created_at=due
    )
    assert scheduler.tick() == 4
    assert set(Run.objects.values_list("recipe_id", flat=True)) == {
        r.pk for i, r in enumerate(recipes) if i != 2
    }
    assert not TriggerState.objects.filter(next_fire_at__lte=due).exists()
