"""What Home shows a workspace at a glance: runs per day and how many succeeded, what needs
someone's attention (recipes the hub paused or that keep failing, connections to reconnect)
and the latest failures.

Each figure is one query over an indexed range; the runs per day come from counts kept per
quarter hour (``hub.engine.run_counts``), so Home does not count two weeks of runs on every
visit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from hub.connections.models import Connection
from hub.engine import run_counts
from hub.engine.models import Run
from hub.recipes import access
from hub.recipes.models import Recipe

DAYS = 14


@dataclass(frozen=True)
class Day:
    day: date
    succeeded: int
    failed: int
    other: int

    @property
    def total(self) -> int:
        return self.succeeded + self.failed + self.other


def runs_per_day(workspace, zone, today: date | None = None) -> list[Day]:
    """The last ``DAYS`` days on the workspace's wall clock, oldest first, empty days kept.
    Counted per quarter hour (``hub.engine.run_counts``): the quarter hours already over
    are read from their kept counts, the last few counted from the runs, so a first run
    shows at once."""
    today = today or timezone.now().astimezone(zone).date()
    first = today - timedelta(days=DAYS - 1)
    by_day = run_counts.per_day(workspace.pk, zone, first, today)
    days = []
    for offset in range(DAYS):
        day = first + timedelta(days=offset)
        counts = by_day.get(day, run_counts.EMPTY)
        succeeded = counts.succeeded + counts.filtered
        days.append(Day(day, succeeded, counts.failed, counts.total - succeeded - counts.failed))
    return days


def success_rate(days: list[Day]) -> float | None:
    """Succeeded out of finished-and-judged runs (still running ones are not counted)."""
    judged = sum(d.succeeded + d.failed for d in days)
    return None if judged == 0 else sum(d.succeeded for d in days) / judged


def recipes_needing_attention(workspace, limit: int = 10) -> list[Recipe]:
    """Recipes the hub paused (a lost connection, a publisher who left) and active recipes
    whose latest finished run failed; each carries ``attention`` saying which."""
    latest = (
        # The workspace too, so the (workspace, recipe, created_at) index serves it.
        Run.objects.filter(
            workspace=OuterRef("workspace_id"), recipe=OuterRef("pk"), status__in=Run.FINISHED
        )
        .order_by("-created_at", "-id")
        .values("status")[:1]
    )
    recipes = (
        Recipe.objects.filter(workspace=workspace)
        .annotate(latest_status=Subquery(latest))
        .filter(
            Q(state=Recipe.State.PAUSED) & ~Q(paused_reason="")
            | Q(state=Recipe.State.ACTIVE, latest_status=Run.Status.FAILED)
        )
        .order_by("name")[:limit]
    )
    found = list(recipes)
    for recipe in found:
        recipe.attention = "paused" if recipe.state == Recipe.State.PAUSED else "failing"
    return found


def connections_to_reconnect(workspace) -> list[Connection]:
    return list(
        Connection.objects.filter(
            workspace=workspace, status=Connection.Status.NEEDS_RECONNECT
        ).order_by("label")
    )


def recent_failures(membership, limit: int = 5) -> list[Run]:
    runs = access.visible_runs(
        membership,
        Run.objects.filter(workspace_id=membership.workspace_id, status=Run.Status.FAILED),
    )
    return list(runs.select_related("recipe").order_by("-created_at", "-id")[:limit])


@dataclass(frozen=True)
class Bar:
    day: Day
    x: int
    succeeded_y: int
    succeeded_h: int
    failed_y: int
    failed_h: int
    other_y: int
    other_h: int


CHART_HEIGHT = 120
BAR_STEP = 24
BAR_WIDTH = 16


def bars(days: list[Day]) -> list[Bar]:
    """SVG geometry of a stacked bar per day (succeeded at the bottom, then failed, then the
    rest), scaled to the busiest day."""
    peak = max((d.total for d in days), default=0) or 1
    scale = CHART_HEIGHT / peak
    out = []
    for index, day in enumerate(days):
        succeeded_h = round(day.succeeded * scale)
        failed_h = round(day.failed * scale)
        other_h = round(day.other * scale)
        succeeded_y = CHART_HEIGHT - succeeded_h
        failed_y = succeeded_y - failed_h
        out.append(
            Bar(
                day,
                index * BAR_STEP,
                succeeded_y,
                succeeded_h,
                failed_y,
                failed_h,
                failed_y - other_h,
                other_h,
            )
        )
    return out
