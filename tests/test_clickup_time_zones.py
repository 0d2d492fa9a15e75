"""Dates read in the recipe's time zone (``ctx.timezone``): a due date typed in Seoul arrives
at ClickUp as the right millisecond, and find_tasks' windows — today, between two dates —
are Seoul's days, not UTC's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.test_clickup_actions import clickup, context, fails, ms  # noqa: F401

SEOUL = ZoneInfo("Asia/Seoul")


def run_in(fake, zone: str, key: str, **config):
    ctx = context(fake, **config)
    ctx.timezone = zone
    return ctx.integration.action(key).run(ctx)


def test_a_due_date_typed_in_seoul_arrives_as_seouls_moment(clickup):  # noqa: F811
    out = run_in(
        clickup,
        "Asia/Seoul",
        "create_task",
        list=clickup.list_id,
        name="Send the quote",
        due_date="2026-12-04 18:00",
        start_date="2026-12-04",
    )
    body = clickup.calls("task.create")[-1].body
    assert body["due_date"] == ms(datetime(2026, 12, 4, 9, 0, tzinfo=UTC)) == 1796374800000
    assert body["due_date_time"] is True
    assert body["start_date"] == ms(datetime(2026, 12, 3, 15, 0, tzinfo=UTC))
    assert body["start_date_time"] is False
    assert out["due_date"] == "2026-12-04T18:00:00+09:00"


def test_a_step_timezone_in_an_older_file_still_wins(clickup):  # noqa: F811
    run_in(
        clickup,
        "Asia/Seoul",
        "create_task",
        list=clickup.list_id,
        name="x",
        due_date="2026-12-04T18:00",
        timezone="UTC",
    )
    body = clickup.calls("task.create")[-1].body
    assert body["due_date"] == ms(datetime(2026, 12, 4, 18, 0, tzinfo=UTC))


def test_create_task_no_longer_declares_a_time_zone_of_its_own(clickup):  # noqa: F811
    action = context(clickup).integration.action("create_task")
    assert action.field("timezone") is None


def test_due_today_uses_the_recipes_day(clickup):  # noqa: F811
    today = datetime.combine(datetime.now(SEOUL).date(), datetime.min.time(), tzinfo=SEOUL)
    clickup.add_task(clickup.list_id, "Early today", due_date=ms(today + timedelta(minutes=5)))
    clickup.add_task(clickup.list_id, "Just before", due_date=ms(today - timedelta(minutes=5)))
    out = run_in(clickup, "Asia/Seoul", "find_tasks", workspace=clickup.team_id, due="today")
    assert [t["name"] for t in out["tasks"]] == ["Early today"]
    assert out["tasks"][0]["due_date"].endswith("+09:00")


def test_between_two_dates_takes_whole_days_in_seoul(clickup):  # noqa: F811
    def at(day: int, hour: int, minute: int = 0) -> int:
        return ms(datetime(2026, 12, day, hour, minute, tzinfo=SEOUL))

    clickup.add_task(clickup.list_id, "Before", due_date=at(1, 23, 59))
    clickup.add_task(clickup.list_id, "First minute", due_date=at(2, 0, 0))
    clickup.add_task(clickup.list_id, "Last minute", due_date=at(4, 23, 59))
    clickup.add_task(clickup.list_id, "After", due_date=at(5, 0, 0))
    out = run_in(
        clickup,
        "Asia/Seoul",
        "find_tasks",
        workspace=clickup.team_id,
        due="range",
        due_from="2026-12-02",
        due_to="2026-12-04",
    )
    assert sorted(t["name"] for t in out["tasks"]) == ["First minute", "Last minute"]
    query = clickup.calls("team.tasks")[0].query
    assert query["due_date_gt"] == [str(at(2, 0) - 1)] and query["due_date_lt"] == [str(at(5, 0))]


def test_between_two_moments_and_an_open_end(clickup):  # noqa: F811
    noon = ms(datetime(2026, 12, 2, 12, tzinfo=SEOUL))
    clickup.add_task(clickup.list_id, "Noon", due_date=noon)
    clickup.add_task(clickup.list_id, "Later", due_date=noon + 3_600_000)
    out = run_in(
        clickup,
        "Asia/Seoul",
        "find_tasks",
        workspace=clickup.team_id,
        due="range",
        due_to="2026-12-02T12:00",
    )
    assert [t["name"] for t in out["tasks"]] == ["Noon"]
    assert "due_date_gt" not in clickup.calls("team.tasks")[0].query


def test_a_range_without_dates_says_what_to_give(clickup):  # noqa: F811
    error = fails(clickup, "find_tasks", workspace=clickup.team_id, due="range")
    assert error.permanent and "Due from" in error.message
    assert clickup.calls("team.tasks") == []


def test_find_tasks_by_status_includes_closed_ones_named(clickup):  # noqa: F811
    clickup.add_task(clickup.list_id, "Open one")
    clickup.add_task(clickup.list_id, "Done one", status="complete")
    out = run_in(clickup, "UTC", "find_tasks", workspace=clickup.team_id, statuses=["complete"])
    assert [t["name"] for t in out["tasks"]] == ["Done one"]
    assert clickup.calls("team.tasks")[0].query["statuses[]"] == ["complete"]
