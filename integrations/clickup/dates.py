"""ClickUp dates: Unix milliseconds, with a flag saying whether the time of day counts.

A date the member writes is read in a time zone (the step's ``timezone`` field until recipes
carry one), so "2026-12-04" means that day where the team is, not in UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils.translation import gettext as _

from integrations.base import IntegrationError


def zone(name: Any) -> tzinfo:
    text = str(name or "").strip() or "UTC"
    if text.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise IntegrationError(
            _("“%(zone)s” is not a time zone. Use a name like Asia/Seoul or UTC.") % {"zone": text},
            permanent=True,
        ) from None


def to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def parse(value: Any, tz: tzinfo) -> tuple[int, bool] | None:
    """(Unix ms, whether a time of day was given) for a date or date-time string; None when
    the value is empty. A date alone stands for the start of that day in ``tz``; a date-time
    without an offset is read in ``tz``."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment, timed = value, True
    elif isinstance(value, date):
        moment, timed = datetime.combine(value, time()), False
    else:
        text = str(value).strip().replace("Z", "+00:00")
        try:
            if len(text) == 10:
                moment, timed = datetime.combine(date.fromisoformat(text), time()), False
            else:
                moment, timed = datetime.fromisoformat(text.replace(" ", "T", 1)), True
        except ValueError:
            raise IntegrationError(
                _(
                    "“%(value)s” is not a date or time. Write it like 2026-12-01 or "
                    "2026-12-01T09:00+09:00."
                )
                % {"value": value},
                permanent=True,
            ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return to_ms(moment), timed


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
