"""The time zones a workspace or a recipe may name: IANA names as ``zoneinfo`` knows them.

Dates people type ("due Friday 18:00", "every weekday at 9:00") are read in the recipe's
zone, which defaults to its workspace's; both are stored as names and checked against this
list, so a typo is refused where it is typed instead of failing a run later.
"""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

from django.conf import settings


@cache
def zone_names() -> tuple[str, ...]:
    """Every IANA name this machine's time zone data knows, sorted (``UTC`` included)."""
    return tuple(sorted(available_timezones() | {"UTC"}))


def is_zone(name: object) -> bool:
    return isinstance(name, str) and name in set(zone_names())


def default_zone() -> str:
    """A new workspace's zone: the deployment's ``TIME_ZONE``."""
    return settings.TIME_ZONE if is_zone(settings.TIME_ZONE) else "UTC"
