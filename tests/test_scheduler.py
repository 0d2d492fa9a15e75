"""Schedules: friendly forms, cron across DST changes, the tick's once-per-due-time rule."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection as db_connection

from hub.engine import schedule
from hub.engine.models import Run, TriggerState
from hub.engine.scheduler import tick
from hub.recipes.services import publish_recipe, set_paused
from tests.conftest import make_recipe

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def fires(expression, tz, start, count):
    out, after = [], start
    for _ in range(count):
        after = schedule.next_cron(expression, tz, after)
        out.append(after)
    return out


def local(instants, tz):
    return [i.astimezone(tz).strftime("%m-%d %H:%M %Z") for i in instants]


def test_daily_at_nonexistent_time_fires_once_shifted_berlin():
    # 2025-03-30: Berlin clocks jump from 02:00 to 03:00.
    start = datetime(2025, 3, 28, 12, tzinfo=UTC)
    got = local(fires("30 2 * * *", "Europe/Berlin", start, 4), BERLIN)
    assert got == ["03-29 02:30 CET", "03-30 03:30 CEST", "03-31 02:30 CEST", "04-01 02:30 CEST"]


def test_daily_at_repeated_time_fires_once_berlin():
    # 2025-10-26: Berlin clocks go back from 03:00 to 02:00; 02:30 happens twice.
    start = datetime(2025, 10, 25, 12, tzinfo=UTC)
    got = fires("30 2 * * *", "Europe/Berlin", start, 3)
    assert local(got, BERLIN) == ["10-26 02:30 CEST", "10-27 02:30 CET", "10-28 02:30 CET"]
    assert got[1] - got[0] == timedelta(hours=25)


def test_hourly_fires_in_both_repeated_hours_and_skips_the_missing_one_new_york():
    # 2025-11-02: New York goes back 02:00 EDT -> 01:00 EST.
    start = datetime(2025, 11, 2, 4, 0, tzinfo=UTC)  # 00:00 EDT
    got = fires("15 * * * *", "America/New_York", start, 4)
    assert local(got, NEW_YORK) == [
        "11-02 00:15 EDT",
        "11-02 01:15 EDT",
        "11-02 01:15 EST",
        "11-02 02:15 EST",
    ]
    assert all(b - a == timedelta(hours=1) for a, b in itertools.pairwise(got))
    # 2025-03-09: 02:00 EST -> 03:00 EDT; 02:15 does not exist.
    start = datetime(2025, 3, 9, 5, 0, tzinfo=UTC)  # 00:00 EST
    got = fires("15 * * * *", "America/New_York", start, 3)
    assert local(got, NEW_YORK) == ["03-09 00:15 EST", "03-09 01:15 EST", "03-09 03:15 EDT"]


def test_weekday_morning_keeps_local_time_across_change_new_york():
    start = datetime(2025, 3, 6, 20, tzinfo=UTC)
    got = local(fires("0 9 * * 1-5", "America/New_York", start, 3), NEW_YORK)
    assert got == ["03-07 09:00 EST", "03-10 09:00 EDT", "03-11 09:00 EDT"]


def test_every_minute_is_monotonic_across_berlin_fall_back():
    start = datetime(2025, 10, 26, 0, 55, tzinfo=UTC)  # 02:55 CEST
    got = fires("* * * * *", "Europe/Berlin", start, 10)
    assert all(b - a == timedelta(minutes=1) for a, b in itertools.pairwise(got))


def test_friendly_forms_normalize():
    assert schedule.normalize("every", {"minutes": 15})["cron"] == "*/15 * * * *"
    assert schedule.normalize("every", {"minutes": 1})["cron"] == "* * * * *"
    assert schedule.normalize("every", {"minutes": 120})["cron"] == "0 */2 * * *"
    assert schedule.normalize("every", {"minutes": 7})["interval_minutes"] == 7
    assert schedule.normalize("hourly", {"minute": 5})["cron"] == "5 * * * *"
    assert schedule.normalize("daily", {"at": "09:30", "timezone": "Asia/Seoul"}) == {
        "at": "09:30",
        "timezone": "Asia/Seoul",
        "cron": "30 9 * * *",
    }
    weekly = schedule.normalize("weekly", {"days": ["mon", "Friday"], "at": "8:00"})
    assert weekly["cron"] == "0 8 * * 1,5"
    for event, config in [
        ("daily", {"at": "25:00"}),
        ("weekly", {"days": ["someday"], "at": "08:00"}),
        ("cron", {"cron": "* * *"}),
        ("cron", {"cron": "* * * * *", "timezone": "Mars/Base"}),
        ("fortnightly", {}),
    ]:
        with pytest.raises(schedule.ScheduleError):
            schedule.normalize(event, config)


def test_interval_schedule():
    after = datetime(2025, 1, 1, 0, 3, tzinfo=UTC)
    assert schedule.next_fire({"interval_minutes": 7}, after) > after


def cron_recipe(workspace, kit, expression="*/5 * * * *", name="Every five"):
    return make_recipe(
        workspace,
        [
            {
                "key": "a",
                "app": "kit",
                "action": "echo",
                "config": {"text": "{{ trigger.scheduled_at }}"},
            }
        ],
        trigger={
            "app": "schedule",
            "event": "cron",
            "config": {"cron": expression, "timezone": "UTC"},
        },
        name=name,
    )


def test_publish_sets_next_fire_and_tick_fires_once_per_due_time(workspace, kit):
    recipe = cron_recipe(workspace, kit)
    state = TriggerState.objects.get(recipe=recipe)
    due = state.next_fire_at
    assert due.minute % 5 == 0 and due.second == 0
    assert tick(due - timedelta(seconds=1)) == 0
    assert tick(due) == 1
    assert tick(due) == 0
    assert tick(due + timedelta(seconds=30)) == 0
    run = Run.objects.get()
    assert run.dedupe_key == f"schedule:{recipe.pk}:{due.isoformat()}"
    assert run.trigger_data["scheduled_at"] == due.isoformat()
    state.refresh_from_db()
    assert state.next_fire_at == due + timedelta(minutes=5)


def test_missed_fires_after_downtime_fire_once(workspace, kit):
    recipe = cron_recipe(workspace, kit)
    due = TriggerState.objects.get(recipe=recipe).next_fire_at
    later = due + timedelta(hours=3, minutes=2)
    assert tick(later) == 1
    assert tick(later) == 0
    state = TriggerState.objects.get(recipe=recipe)
    assert state.next_fire_at == due + timedelta(hours=3, minutes=5)
    assert Run.objects.count() == 1


def test_paused_recipe_does_not_fire_and_republish_swaps_trigger(workspace, kit):
    recipe = cron_recipe(workspace, kit)
    due = TriggerState.objects.get(recipe=recipe).next_fire_at
    set_paused(recipe, True)
    assert TriggerState.objects.get(recipe=recipe).next_fire_at is None
    assert tick(due + timedelta(minutes=1)) == 0
    set_paused(recipe, False)
    assert TriggerState.objects.get(recipe=recipe).next_fire_at is not None
    recipe.refresh_from_db()
    recipe.draft["trigger"] = {"app": "manual"}
    recipe.save()
    publish_recipe(recipe)
    state = TriggerState.objects.get(recipe=recipe)
    assert state.kind == "manual" and state.next_fire_at is None


def test_a_dedupe_key_already_used_is_not_fired_again(workspace, kit):
    recipe = cron_recipe(workspace, kit)
    due = TriggerState.objects.get(recipe=recipe).next_fire_at
    assert tick(due) == 1
    TriggerState.objects.filter(recipe=recipe).update(next_fire_at=due)
    assert tick(due) == 0
    assert Run.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_ticks_fire_one_run_per_due_time(workspace, kit):
    """Two schedulers ticking at the same moment, on separate connections."""
    if db_connection.vendor == "sqlite":
        # SQLite serialises writers (IMMEDIATE transactions); the same test still proves the
        # compare-and-set and the dedupe key hold under interleaving.
        pass
    recipes = [cron_recipe(workspace, kit, name=f"R{i}") for i in range(20)]
    due = max(
        TriggerState.objects.filter(recipe__in=recipes).values_list("next_fire_at", flat=True)
    )
    barrier = threading.Barrier(4)
    counts, errors = [], []

    def worker():
        from django.db import connection

        try:
            barrier.wait()
            counts.append(tick(due))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sum(counts) == 20
    assert Run.objects.count() == 20
    assert len(set(Run.objects.values_list("recipe_id", flat=True))) == 20
