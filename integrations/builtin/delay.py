"""Delay: park the run for a while or until a moment, without holding a worker.

The first call raises ``WaitUntil``; the engine re-enqueues the run with that ETA and calls
the step again with ``ctx.resumed`` set, which returns. A moment already past returns at once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from hub.mapping import parse_datetime, to_text, zone
from integrations.base import (
    Action,
    Choice,
    Context,
    Field,
    IntegrationError,
    OutputField,
    WaitUntil,
)
from integrations.builtin.formatter import parse_number

MAX_WAIT = timedelta(days=30)
UNITS = {"minutes": 60, "hours": 3600, "days": 86400}


def _fail(message: str) -> IntegrationError:
    return IntegrationError(message, permanent=True)


def utcnow() -> datetime:
    return datetime.now(UTC)


def resume_at(config: dict[str, Any], current: datetime, recipe_zone: str = "UTC") -> datetime:
    """When the run should continue, as an aware UTC datetime. A moment without an offset
    is read in the step's ``timezone``, else the recipe's."""
    mode = config.get("mode") or "for"
    if mode == "for":
        amount = parse_number(config.get("amount"), "The amount")
        unit = config.get("unit") or "minutes"
        if unit not in UNITS:
            raise _fail(f"“{unit}” is not a unit; use minutes, hours or days.")
        if amount < 0:
            raise _fail("The amount cannot be negative.")
        seconds = amount * UNITS[unit]
        if seconds > Decimal(MAX_WAIT.total_seconds()):
            raise _fail("A delay can be at most 30 days.")
        return current + timedelta(seconds=float(seconds))
    if mode == "until":
        try:
            tz = zone(config.get("timezone") or recipe_zone or "UTC")
        except ValueError as exc:
            raise _fail(f"Time zone: {exc}.") from None
        value = config.get("until")
        try:
            moment = parse_datetime(value, tz).astimezone(UTC)
        except (ValueError, TypeError):
            raise _fail(
                f"“{to_text(value)[:40]}” is not a date and time; "
                "use ISO-8601 such as 2024-05-01T09:00."
            ) from None
        if moment - current > MAX_WAIT:
            raise _fail("A delay can be at most 30 days.")
        return moment
    raise _fail(f"“{mode}” is not a delay mode; choose “for” or “until”.")


def run(ctx: Context) -> dict[str, Any]:
    current = utcnow()
    if ctx.resumed:
        return {"waited_until": current.isoformat()}
    target = resume_at(ctx.config, current, ctx.timezone)
    if target <= current:
        return {"waited_until": current.isoformat()}
    raise WaitUntil(target, output={"waiting_until": target.isoformat()})


ACTION = Action(
    key="delay",
    label=_("Wait"),
    run=run,
    effect="read",
    help=_("Pauses the run for a while or until a date and time (at most 30 days)."),
    fields=(
        Field(
            "mode",
            _("Wait"),
            kind="choice",
            required=True,
            default="for",
            choices=(Choice("for", _("for a while")), Choice("until", _("until a moment"))),
        ),
        Field("amount", _("How long"), kind="number", help=_("With “for a while”.")),
        Field(
            "unit",
            _("Unit"),
            kind="choice",
            default="minutes",
            choices=(
                Choice("minutes", _("minutes")),
                Choice("hours", _("hours")),
                Choice("days", _("days")),
            ),
        ),
        Field(
            "until",
            _("Until"),
            kind="date",
            help=_("With “until a moment”: a date and time, e.g. 2024-05-01T09:00."),
        ),
        Field(
            "timezone",
            _("Time zone"),
            help=_(
                "For a date and time without an offset, e.g. Asia/Seoul. Empty: the recipe's "
                "time zone."
            ),
        ),
    ),
    outputs=(OutputField("waited_until", _("Waited until"), kind="date"),),
    sample={"waited_until": "2024-05-01T09:00:00+00:00"},
)
