"""ClickUp dates: Unix milliseconds, with a flag saying whether the time of day counts.

A date the member writes is read in the recipe's time zone (``ctx.timezone``), so
"2026-12-04" means that day where the team is, not in UTC. A ``timezone`` value in a step's
config (recipe files written before recipes had a time zone carry one) still wins.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from django.utils.translation import gettext

from integrations.base import IntegrationError
from integrations.dates import moment, zone

__all__ = ["due_window", "iso", "parse", "step_zone", "to_ms", "zone"]


def step_zone(ctx: Any) -> tzinfo:
    """The zone a step reads dates in: its own ``timezone`` value if it has one, else the
    recipe's."""
    return zone(ctx.config.get("timezone") or getattr(ctx, "timezone", None))


def to_ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def parse(value: Any, tz: tzinfo) -> tuple[int, bool] | None:
    """(Unix ms, whether a time of day was given) for a date or date-time; None when empty."""
    if value in (None, ""):
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return to_ms(datetime.combine(value, time(), tz)), False
    when, timed = moment(value, tz)
    return to_ms(when), timed


def iso(ms: Any, tz: tzinfo) -> str | None:
    """ClickUp's millisecond string as ISO 8601 with the zone's offset."""
    if ms in (None, ""):
        return None
    return datetime.fromtimestamp(int(ms) / 1000, tz).isoformat()


def day_start(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz)


def due_window(due: str, tz: tzinfo, now: datetime | None = None) -> dict[str, int]:
    """``due_date_gt`` / ``due_date_lt`` (exclusive, ms) for today, overdue or this week
    (Monday to Sunday) in ``tz``; nothing for "any"."""
    now = (now or datetime.now(UTC)).astimezone(tz)
    today = now.date()
    if due == "today":
        start, end = day_start(today, tz), day_start(today + timedelta(days=1), tz)
    elif due == "this_week":
        monday = today - timedelta(days=today.weekday())
        start, end = day_start(monday, tz), day_start(monday + timedelta(days=7), tz)
    elif due == "overdue":
        return {"due_date_lt": to_ms(now)}
    else:
        return {}
    return {"due_date_gt": to_ms(start) - 1, "due_date_lt": to_ms(end)}


def range_window(start: Any, end: Any, tz: tzinfo) -> dict[str, int]:
    """``due_date_gt`` / ``due_date_lt`` for "between two dates": from the start of ``start``
    to the end of ``end`` when they are dates alone, or to the very moments given."""
    window: dict[str, int] = {}
    first = parse(start, tz)
    if first is not None:
        window["due_date_gt"] = first[0] - 1
    last = parse(end, tz)
    if last is not None:
        ms, timed = last
        if timed:
            window["due_date_lt"] = ms + 1
        else:
            # A date alone means through that whole day (not 24 h: a day may change clocks).
            day = datetime.fromtimestamp(ms / 1000, tz).date()
            window["due_date_lt"] = to_ms(day_start(day + timedelta(days=1), tz))
    if not window:
        raise IntegrationError(
            gettext("Give “Due from”, “Due until” or both to find tasks between two dates."),
            permanent=True,
        )
    return window
