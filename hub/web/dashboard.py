"""What Home shows a workspace at a glance: runs per day and how many succeeded, what needs
someone's attention (recipes the hub paused or that keep failing, connections to reconnect)
and the latest failures.

Each figure is one aggregate query over an indexed range; the counts of the days before today
are cached for five minutes per workspace, so a busy Home page does not count two weeks of
runs on every visit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.cache import cache
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import TruncDate
from django.utils import timezone

from hub.connections.models import Connection
from hub.engine.models import Run
from hub.recipes import access
from hub.recipes.models import Recipe

DAYS = 14
CACHE_SECONDS = 300
BAD = (Run.Status.FAILED,)
GOOD = (Run.Status.SUCCEEDED, Run.Status.FILTERED)


@dataclass(frozen=True)
class Day:
    day: date
    succeeded: int
    failed: int
    other: int

    @property
    def total(self) -> int:
        return self.succeeded + self.failed + self.other


def _counts(workspace, zone, start: date, end: date) -> dict[date, dict]:
    rows = (
        Run.objects.filter(
            workspace=workspace,
            created_at__gte=datetime.combine(start, time(), zone),
            created_at__lt=datetime.combine(end, time(), zone),
        )
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("day")
        .annotate(
            succeeded=Count("id", filter=Q(status__in=GOOD)),
            failed=Count("id", filter=Q(status__in=BAD)),
            total=Count("id"),
        )
    )
    return {row["day"]: row for row in rows}


def runs_per_day(workspace, zone, today: date | None = None) -> list[Day]:
    """The last ``DAYS`` days on the workspace's wall clock, oldest first, empty days kept.
    Today is counted afresh each time (a first run shows at once); the days before change
    little and are cached."""
    today = today or timezone.now().astimezone(zone).date()
    first = today - timedelta(days=DAYS - 1)
    key = f"hub:dashboard:days:{workspace.pk}:{today.isoformat()}:{zone}"
    earlier = cache.get(key)
    if earlier is None:
        earlier = _counts(workspace, zone, first, today)
        cache.set(key, earlier, CACHE_SECONDS)
    by_day = {**earlier, **_counts(workspace, zone, today, today + timedelta(days=1))}
    days = []
    for offset in range(DAYS):
        day = first + timedelta(days=offset)
        row = by_day.get(day, {"succeeded": 0, "failed": 0, "total": 0})
        other = row["total"] - row["succeeded"] - row["failed"]
        days.append(Day(day, row["succeeded"], row["failed"], other))
    return days


def success_rate(days: list[Day]) -> float | None:
    """Succeeded out of finished-and-judged runs (still running ones are not counted)."""
    judged = sum(d.succeeded + d.failed for d in days)
    return None if judged == 0 else sum(d.succeeded for d in days) / judged


def recipes_needing_attention(workspace, limit: int = 10) -> list[Recipe]:
    """Recipes the hub paused (a lost connection, a publisher who left) and active recipes
    whose latest finished run failed; each carries ``attention`` saying which."""
    latest = (
        Run.objects.filter(recipe=OuterRef("pk"), status__in=Run.FINISHED)
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
