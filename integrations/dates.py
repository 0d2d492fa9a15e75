"""Dates a member types into an app's fields, read with the data language's own parser
(``hub.mapping``) so every step understands the same forms, and refused in words that say how
to write them."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from django.utils.translation import gettext as _

from hub.mapping import parse_datetime
from hub.mapping import zone as named_zone
from integrations.base import IntegrationError


def zone(name: Any) -> tzinfo:
    """The IANA time zone by name; UTC when empty."""
    text = str(name or "").strip() or "UTC"
    try:
        return named_zone(text)
    except ValueError:
        raise IntegrationError(
            _("“%(zone)s” is not a time zone. Use a name like Asia/Seoul or UTC.") % {"zone": text},
            permanent=True,
        ) from None


def moment(value: Any, tz: tzinfo) -> tuple[datetime, bool]:
    """The aware datetime a date, date-time or Unix timestamp stands for, and whether it named
    a time of day. A date alone is the start of that day in ``tz``; a date-time without an
    offset is read in ``tz``."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=tz)), True
    text = str(value).strip()
    try:
        parsed = parse_datetime(text.replace(" ", "T", 1), tz)
    except ValueError:
        raise IntegrationError(
            _(
                "“%(value)s” is not a date or time. Write it like 2026-12-01 or "
                "2026-12-01T09:00+09:00."
            )
            % {"value": text},
            permanent=True,
        ) from None
    return parsed, len(text) != 10 or text.isdigit()
