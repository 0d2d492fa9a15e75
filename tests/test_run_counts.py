"""Home's runs per day from counts kept per quarter hour (hub.engine.run_counts): the same
figures as counting the runs, on any wall clock; kept once a quarter hour is over and its
runs have finished; forgotten when the prune or a recipe's deletion removes runs; and the
page's queries do not grow with the runs it counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hub.engine import run_counts, sweeper
from hub.engine.models import RetentionPolicy, Run, RunSlotCount
from hub.recipes.services import delete_recipe
from hub.web import dashboard
from tests.conftest import make_recipe

SEOUL = ZoneInfo("Asia/Seoul")
KOLKATA = ZoneInfo("Asia/Kolkata")  # UTC+5:30: days start on a half hour of UTC


@pytest.fixture
def recipe(workspace, kit):
    return make_recipe(
        workspace,
        [{"key": "say", "app": "kit", "action": "echo", "config": {"text": "hi"}}],
        trigger={"app": "webhook", "event": "catch"},
        name="Greeter",
    )


def add_runs(recipe, moments, status=Run.Status.SUCCEEDED):
    Run.objects.bulk_create(
        Run(
            workspace=recipe.workspace,
            recipe=recipe,
            version=recipe.current_version,
            source=Run.Source.WEBHOOK,
            status=status,
            dedupe_key=f"t:{recipe.pk}:{status}:{moment.isoformat()}:{i}",
            created_at=moment,
            finished_at=moment if status in Run.FINISHED else None,
        )
        for i, moment in enumerate(moments)
    )


def by_counting(workspace, zone) -> dict:
    """Runs per wall-clock day the slow way, for comparison."""
    out: dict = {}
    for created, status in Run.objects.filter(workspace=workspace).values_list(
        "created_at", "status"
    ):
        day = created.astimezone(zone).date()
        succeeded, failed, total = out.get(day, (0, 0, 0))
        out[day] = (
            succeeded + (status in (Run.Status.SUCCEEDED, Run.Status.FILTERED)),
            failed + (status == Run.Status.FAILED),
            total + 1,
        )
    return out


def chart(workspace, zone) -> dict:
    return {
        d.day: (d.succeeded, d.failed, d.total)
        for d in dashboard.runs_per_day(workspace, zone)
        if d.total
    }


def test_days_match_counting_the_runs_on_any_wall_clock(workspace, recipe):
    now = timezone.now()
    # Around the quarter hours and midnights of Kolkata and Seoul, over two weeks.
    moments = [now - timedelta(hours=7 * i, minutes=i % 31, microseconds=i) for i in range(48)]
    add_runs(recipe, moments[::2])
    add_runs(recipe, moments[1::4], status=Run.Status.FAILED)
    add_runs(recipe, moments[3::4], status=Run.Status.CANCELLED)
    add_runs(recipe, [now - timedelta(minutes=1)], status=Run.Status.RUNNING)
    for zone in (UTC, SEOUL, KOLKATA):
        expected = {
            day: figures
            for day, figures in by_counting(workspace, zone).items()
            if day > now.astimezone(zone).date() - timedelta(days=dashboard.DAYS)
        }
        assert chart(workspace, zone) == expected
        assert chart(workspace, zone) == expected  # the second time from the kept counts


def test_a_quarter_hour_boundary_is_exact(workspace, recipe):
    slot = run_counts.slot_of(timezone.now() - timedelta(hours=3))
    add_runs(recipe, [slot - timedelta(microseconds=1), slot, slot + timedelta(minutes=15)])
    dashboard.runs_per_day(workspace, UTC)
    kept = RunSlotCount.objects.filter(
        slot__gte=slot - run_counts.SLOT, slot__lte=slot + run_counts.SLOT
    )
    assert dict(kept.values_list("slot", "succeeded")) == {
        slot - run_counts.SLOT: 1,
        slot: 1,
        slot + run_counts.SLOT: 1,
    }


def test_finished_quarter_hours_are_kept_and_open_ones_counted_each_time(workspace, recipe):
    now = timezone.now()
    hour_ago = now - timedelta(hours=1)
    add_runs(recipe, [hour_ago])
    add_runs(recipe, [hour_ago - timedelta(hours=1)], status=Run.Status.WAITING)
    add_runs(recipe, [now - timedelta(seconds=30)])
    assert sum(d.total for d in dashboard.runs_per_day(workspace, UTC)) == 3
    kept = set(RunSlotCount.objects.values_list("slot", flat=True))
    assert run_counts.slot_of(hour_ago) in kept
    # Neither the quarter hour with a waiting run nor the one still going on is kept.
    assert run_counts.slot_of(hour_ago - timedelta(hours=1)) not in kept
    assert run_counts.slot_of(now) not in kept
    # Every quarter hour of the two weeks up to a few minutes ago is, with zeros when empty.
    assert len(kept) >= dashboard.DAYS * 96 - 24 * 4

    Run.objects.filter(status=Run.Status.WAITING).update(status=Run.Status.FAILED)
    days = dashboard.runs_per_day(workspace, UTC)
    assert sum(d.failed for d in days) == 1 and sum(d.succeeded for d in days) == 2


def test_the_prune_and_deleting_a_recipe_forget_the_counts_of_what_they_removed(
    workspace, recipe, kit, settings
):
    now = timezone.now()
    other = make_recipe(
        workspace,
        [{"key": "say", "app": "kit", "action": "echo", "config": {"text": "hi"}}],
        trigger={"app": "webhook", "event": "catch"},
        name="Digest",
    )
    add_runs(recipe, [now - timedelta(days=d, hours=1) for d in range(10)])
    add_runs(other, [now - timedelta(days=d, hours=2) for d in range(10)])
    assert sum(d.total for d in dashboard.runs_per_day(workspace, UTC)) == 20

    RetentionPolicy.objects.create(workspace=workspace, days=5)
    assert sweeper.prune() == 10  # days 5 to 9 of both recipes
    days = dashboard.runs_per_day(workspace, UTC)
    assert sum(d.total for d in days) == 10
    assert [d.total for d in days[-5:]] == [2, 2, 2, 2, 2]

    delete_recipe(other)
    assert sum(d.total for d in dashboard.runs_per_day(workspace, UTC)) == 5


def test_counts_taken_while_runs_are_deleted_are_not_kept(workspace, recipe, monkeypatch):
    add_runs(recipe, [timezone.now() - timedelta(days=1)])
    counted = run_counts._count

    def count_then_delete(workspace_id, slots):
        found = counted(workspace_id, slots)
        Run.objects.all().delete()
        run_counts.forget(workspace_id)
        return found

    monkeypatch.setattr(run_counts, "_count", count_then_delete)
    dashboard.runs_per_day(workspace, UTC)
    assert not RunSlotCount.objects.exists()
    monkeypatch.setattr(run_counts, "_count", counted)
    assert sum(d.total for d in dashboard.runs_per_day(workspace, UTC)) == 0


def test_home_queries_do_not_grow_with_runs_or_days(member_client, workspace, recipe):
    member_client.get("/")  # the session's first request does a little more
    add_runs(recipe, [timezone.now() - timedelta(days=1)])
    member_client.get("/")  # keeps the two weeks' quarter hours
    with CaptureQueriesContext(connection) as few:
        member_client.get("/")
    now = timezone.now()
    add_runs(recipe, [now - timedelta(minutes=3 * i) for i in range(300)])
    add_runs(recipe, [now - timedelta(hours=5 * i) for i in range(60)], Run.Status.FAILED)
    run_counts.forget(workspace.pk)
    member_client.get("/")
    with CaptureQueriesContext(connection) as many:
        page = member_client.get("/").content.decode()
    assert len(many) == len(few)
    # What is read of the runs is the last minutes, not two weeks of them.
    counting = [q["sql"] for q in many if "COUNT(" in q["sql"] and 'FROM "engine_run" ' in q["sql"]]
    assert len(counting) == 1
    assert "361" in page or "362" in page  # the runs of the two weeks, all counted


def test_the_quarter_hour_of_a_moment():
    moment = datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=UTC)
    assert run_counts.slot_of(moment) == datetime(2026, 3, 29, 0, 45, tzinfo=UTC)
    assert run_counts.slot_of(moment.astimezone(SEOUL)) == datetime(2026, 3, 29, 0, 45, tzinfo=UTC)


def test_rebuild_run_counts_counts_again_what_was_deleted_another_way(workspace, recipe):
    from io import StringIO

    from django.core.management import call_command

    add_runs(recipe, [timezone.now() - timedelta(days=2, minutes=m) for m in range(5)])
    assert sum(d.total for d in dashboard.runs_per_day(workspace, UTC)) == 5
    Run.objects.filter(pk__in=Run.objects.values_list("pk", flat=True)[:2]).delete()
    assert sum(d.total for d in dashboard.runs_per_day(workspace, UTC)) == 5  # kept counts
    out = StringIO()
    call_command("rebuild_run_counts", "--workspace", workspace.slug, stdout=out)
    assert "3 runs in the last 14 days counted" in out.getvalue()
    assert sum(d.total for d in dashboard.runs_per_day(workspace, UTC)) == 3
