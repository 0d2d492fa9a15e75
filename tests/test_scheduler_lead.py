"""A due time is prepared ahead and fired at its time: the scheduler does not fire early, does
not wait for the next tick, and the work of a burst sharing a due time does not grow with it."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hub.celery import app
from hub.engine import scheduler
from hub.engine.compiled_sql import BatchInsert
from hub.engine.models import DedupeKey, Run, TriggerState
from hub.engine.runs import start_runs
from hub.system.scheduler import HeartbeatScheduler
from tests.test_scheduler import cron_recipe


def test_a_due_time_within_the_lead_fires_at_that_time_not_before(workspace, kit):
    recipe = cron_recipe(workspace, kit, "* * * * *")
    due = timezone.now().replace(microsecond=0) + timedelta(seconds=2)
    TriggerState.objects.filter(recipe=recipe).update(next_fire_at=due)
    assert scheduler.tick(lead=3) == 1
    run = Run.objects.get(recipe=recipe)
    assert run.created_at >= due
    assert run.trigger_data["scheduled_at"] == due.isoformat()
    assert run.trigger_data["fired_at"] == due.isoformat()
    following = (due + timedelta(minutes=1)).replace(second=0)
    assert TriggerState.objects.get(recipe=recipe).next_fire_at == following


def test_a_due_time_beyond_the_lead_waits_for_a_later_tick(workspace, kit):
    recipe = cron_recipe(workspace, kit, "* * * * *")
    due = timezone.now() + timedelta(seconds=30)
    TriggerState.objects.filter(recipe=recipe).update(next_fire_at=due)
    assert scheduler.tick(lead=3) == 0
    assert not Run.objects.exists()
    assert TriggerState.objects.get(recipe=recipe).next_fire_at == due


def test_a_burst_sharing_a_due_time_costs_the_same_statements_however_large(workspace, kit):
    due = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=1)

    def statements(count: int) -> int:
        recipes = [
            cron_recipe(workspace, kit, "* * * * *", name=f"Minutely {count}-{i}")
            for i in range(count)
        ]
        TriggerState.objects.filter(recipe__in=recipes).update(next_fire_at=due)
        with CaptureQueriesContext(connection) as queries:
            assert scheduler.tick() == count
        return len(queries)

    assert statements(40) == statements(4)
    assert Run.objects.count() == 44


def test_a_batch_of_runs_larger_than_one_statement_keeps_each_key_with_its_run(
    workspace, kit, monkeypatch
):
    monkeypatch.setattr(BatchInsert, "ROWS_PER_STATEMENT", 7)
    recipes = [cron_recipe(workspace, kit, name=f"R{i}") for i in range(3)]
    starts = [(recipes[i % 3], {"n": i}, f"schedule:{recipes[i % 3].pk}:{i}") for i in range(20)]
    assert start_runs(Run.Source.SCHEDULE, starts) == 20
    for key in DedupeKey.objects.select_related("run"):
        number = int(key.key.rsplit(":", 1)[1])
        assert key.run.trigger_data == {"n": number}
        assert key.run.dedupe_key == key.key
        assert key.run.recipe_id == key.recipe_id == recipes[number % 3].pk


def test_beat_wakes_the_lead_before_the_next_due_time_not_a_whole_tick_later(
    workspace, kit, tmp_path, settings, monkeypatch
):
    settings.ENGINE_TICK_SECONDS = 60
    settings.ENGINE_SCHEDULE_LEAD_SECONDS = 2
    monkeypatch.setattr("django.db.close_old_connections", lambda: None)
    monkeypatch.setattr(scheduler, "lead_seconds", lambda due=None: 2.0)
    recipe = cron_recipe(workspace, kit, "* * * * *")
    TriggerState.objects.filter(recipe=recipe).update(
        next_fire_at=timezone.now() + timedelta(seconds=10)
    )
    beat = HeartbeatScheduler(app=app, schedule_filename=str(tmp_path / "beat"), lazy=True)
    beat.setup_schedule()
    wait = beat.tick()
    beat.close()
    assert not Run.objects.exists()
    assert 6 < wait <= 8  # 10 s to the due time less the 2 s lead, not the 60 s tick


def test_the_lead_grows_when_preparing_took_more_than_half_of_it(settings):
    lead = scheduler._Lead()
    assert lead.seconds(2) == 2
    lead.prepared(4000, 3.0)  # 0.75 ms a schedule
    assert lead.seconds(2) == 6
    lead.prepared(4000, 60.0)
    assert lead.seconds(2) == scheduler.MAX_LEAD_SECONDS
    assert lead.seconds(0) == 0


def test_the_first_lead_is_sized_by_the_burst_it_prepares(settings):
    """Before any preparation was measured, a burst of 2,000 schedules at the next due time
    gets a lead long enough for a prior cost per schedule, not the configured 5 s."""
    lead = scheduler._Lead()
    assert lead.seconds(5) == 5
    assert lead.seconds(5, upcoming=100) == 5
    first = lead.seconds(5, upcoming=2000)
    assert first == 2 * scheduler.PRIOR_SECONDS_PER_SCHEDULE * 2000 > 5
    lead.prepared(2000, 1.0)  # measured: 0.5 ms a schedule
    assert lead.seconds(5, upcoming=2000) == 5


def test_the_lead_counts_the_schedules_of_a_near_due_time(workspace, kit, settings):
    settings.ENGINE_SCHEDULE_LEAD_SECONDS = 2
    due = timezone.now().replace(microsecond=0) + timedelta(seconds=10)
    for i in range(3):
        recipe = cron_recipe(workspace, kit, "* * * * *", name=f"Minutely {i}")
        TriggerState.objects.filter(recipe=recipe).update(next_fire_at=due)
    assert scheduler.schedules_due_at(due) == 3
    far = timezone.now() + timedelta(hours=1)
    if connection.features.has_select_for_update_skip_locked:
        assert scheduler.lead_seconds(due) == 2  # three schedules need less than 2 s
        assert scheduler.lead_seconds(far) == 2  # too far to count
    else:
        assert scheduler.lead_seconds(due) == 0


def test_the_lead_is_not_used_on_a_database_without_skip_locked(settings, monkeypatch):
    settings.ENGINE_SCHEDULE_LEAD_SECONDS = 2
    monkeypatch.setattr(connection.features, "has_select_for_update_skip_locked", False)
    assert scheduler.lead_seconds() == 0
