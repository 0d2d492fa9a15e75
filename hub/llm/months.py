"""Calendar months in a workspace's time zone, for budgets."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


def zone_of(workspace) -> ZoneInfo:
    """The workspace's time zone where it has one, else the deployment's."""
    return zone_named(getattr(workspace, "timezone", ""))


def zone_named(name: str) -> ZoneInfo:
    name = name or settings.TIME_ZONE or "UTC"
    try:
        return ZoneInfo(str(name))
    except (ValueError, KeyError):
        return ZoneInfo("UTC")


def month_of(moment: datetime, tz: ZoneInfo) -> date:
    local = moment.astimezone(tz)
    return date(local.year, local.month, 1)


def bounds(month: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The first instant of the month and of the next, as aware datetimes."""
    start = datetime(month.year, month.month, 1, tzinfo=tz)
    following = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return start, datetime(following.year, following.month, 1, tzinfo=tz)


def current(workspace, now: datetime | None = None) -> tuple[date, datetime, datetime]:
    tz = zone_of(workspace)
    month = month_of(now or timezone.now(), tz)
    return (month, *bounds(month, tz))
