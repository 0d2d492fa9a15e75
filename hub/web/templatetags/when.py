"""Times and durations as people read them: a moment in a named zone, with the zone, and a
duration as a duration ("2 min 5 s"), never as a time ago."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import template
from django.utils import dateformat, formats
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def in_zone(value, zone: str) -> str:
    """``2 Dec 2026, 09:30 (Asia/Seoul)``: the moment as the clock on the wall there reads."""
    if not value:
        return ""
    try:
        tz = ZoneInfo(str(zone))
    except (ZoneInfoNotFoundError, ValueError):
        tz, zone = ZoneInfo("UTC"), "UTC"
    # The zone is named in full after the time, so its abbreviation is left out.
    pattern = formats.get_format("DATETIME_FORMAT").replace(" T", "")
    return _("%(when)s (%(zone)s)") % {
        "when": dateformat.format(value.astimezone(tz), pattern),
        "zone": zone,
    }


@register.filter
def duration(ms) -> str:
    """Milliseconds as a duration: 850 ms, 1.5 s, 21 s, 2 min 5 s, 1 h 2 min."""
    if ms is None or ms == "":
        return "—"
    ms = max(0, int(ms))
    if ms < 1000:
        return _("%(n)s ms") % {"n": ms}
    if ms < 10_000 and ms % 1000:
        return _("%(n)s s") % {"n": formats.number_format(ms / 1000, 1)}
    seconds = round(ms / 1000)
    if seconds < 60:
        return _("%(n)s s") % {"n": seconds}
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        if seconds:
            return _("%(m)s min %(s)s s") % {"m": minutes, "s": seconds}
        return _("%(m)s min") % {"m": minutes}
    hours, minutes = divmod(minutes, 60)
    if minutes:
        return _("%(h)s h %(m)s min") % {"h": hours, "m": minutes}
    return _("%(h)s h") % {"h": hours}
