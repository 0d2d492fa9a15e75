"""The Runs page's filters (recipe, status, dates) and its keyset pagination.

Pages are cut by the last run shown — ``(created_at, id)`` — never by OFFSET, so the page
after a million runs costs what the first one does: the index ``(workspace, created_at)``
(or its recipe and status siblings) is read from the cut onwards and nothing before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from hub.engine.models import Run

PAGE_SIZE = 50
# What a row of the runs table shows (engine/_run_table.html): the list leaves the trigger
# data, the errors and the recipe's document unread.
LISTED = ("id", "recipe__name", "status", "source", "created_at", "started_at", "finished_at")


@dataclass(frozen=True)
class RunFilters:
    recipe_id: int | None = None
    status: str = ""
    since: date | None = None
    until: date | None = None

    @classmethod
    def from_query(cls, query, recipe_ids) -> RunFilters:
        """What the query string asks for; values that do not make sense are ignored, so a
        stale bookmark shows all runs rather than an error."""
        recipe = query.get("recipe", "")
        recipe_id = int(recipe) if recipe.isdigit() and int(recipe) in recipe_ids else None
        status = query.get("status", "")
        return cls(
            recipe_id=recipe_id,
            status=status if status in Run.Status.values else "",
            since=_date(query.get("since")),
            until=_date(query.get("until")),
        )

    @property
    def active(self) -> bool:
        return bool(self.recipe_id or self.status or self.since or self.until)

    def apply(self, runs, zone):
        if self.recipe_id:
            runs = runs.filter(recipe_id=self.recipe_id)
        if self.status:
            runs = runs.filter(status=self.status)
        # The dates are days on the workspace's wall clock, "until" included.
        if self.since:
            runs = runs.filter(created_at__gte=datetime.combine(self.since, time(), zone))
        if self.until:
            end = datetime.combine(self.until + timedelta(days=1), time(), zone)
            runs = runs.filter(created_at__lt=end)
        return runs

    def query(self, **extra) -> str:
        """The query string of these filters (for links to the next page, the live table)."""
        params = {
            "recipe": self.recipe_id or "",
            "status": self.status,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
            **extra,
        }
        return urlencode({k: v for k, v in params.items() if v})


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def cursor_of(run: Run) -> str:
    return f"{run.created_at.isoformat()}_{run.pk}"


def _parse_cursor(value: str | None) -> tuple[datetime, int] | None:
    if not value or "_" not in value:
        return None
    moment, _sep, pk = value.rpartition("_")
    parsed = parse_datetime(moment)
    if parsed is None or not pk.isdigit():
        return None
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=UTC)
    return parsed, int(pk)


def page_of(runs, cursor: str | None) -> tuple[list[Run], str | None]:
    """One page of ``runs`` (newest first) after ``cursor``, and the cursor of the next
    page (None on the last)."""
    cut = _parse_cursor(cursor)
    runs = runs.order_by("-created_at", "-id")
    if cut is not None:
        moment, pk = cut
        runs = runs.filter(created_at__lte=moment).exclude(created_at=moment, id__gte=pk)
    rows = list(runs[: PAGE_SIZE + 1])
    if len(rows) > PAGE_SIZE:
        return rows[:PAGE_SIZE], cursor_of(rows[PAGE_SIZE - 1])
    return rows, None
