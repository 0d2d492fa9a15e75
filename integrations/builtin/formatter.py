"""Formatter: one text, number or date transformation per step, chosen from a fixed list.

Arithmetic parses both numbers and applies one operator; nothing a member typed is ever
evaluated. Extraction scans text in linear time (no regular expression that could
backtrack on a long email body).
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext_lazy as _

from hub.mapping import MappingError, parse_datetime, strip_html, to_text, zone
from integrations.base import Action, Choice, Context, Field, IntegrationError, OutputField

MAX_INPUT_CHARS = 1_000_000
MAX_DURATION = timedelta(days=366 * 100)


def _fail(message: str) -> IntegrationError:
    return IntegrationError(message, permanent=True)


# --------------------------------------------------------------------------- inputs


def _text(ctx: Context, key: str = "input", default: str = "") -> str:
    value = ctx.config.get(key)
    if value is None:
        return default
    try:
        text = to_text(value)
    except MappingError as exc:
        raise _fail(f"“{key}”: {exc.message}") from None
    if len(text) > MAX_INPUT_CHARS:
        raise _fail(f"“{key}” is longer than {MAX_INPUT_CHARS:,} characters.")
    return text


def parse_number(value: Any, label: str) -> Decimal:
    """A number from a number or text such as "1,234.50", "$12" or "-3e2"."""
    if isinstance(value, bool) or value is None or value == "":
        raise _fail(f"{label} is empty; it needs a number.")
    text = repr(value) if isinstance(value, int | float) else to_text(value).strip()
    sign, rest = re.fullmatch(r"([+-]?)\s*[$€£₩¥]?(.*)", text, re.S).groups()
    cleaned = sign + re.sub(r"[\s,_]", "", rest)
    number_syntax = r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,4})?"
    if len(cleaned) > 100 or not re.fullmatch(number_syntax, cleaned):
        raise _fail(f"{label} “{text[:40]}” is not a number.")
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        raise _fail(f"{label} “{text[:40]}” is not a number.") from None
    if not number.is_finite():
        raise _fail(f"{label} “{text[:40]}” is not a number.")
    return number


def _plain_number(number: Decimal) -> int | float:
    if number == number.to_integral_value() and abs(number) < Decimal(10) ** 18:
        return int(number)
    result = float(number)
    if result in (float("inf"), float("-inf")):
        raise _fail("The result is too large.")
    return result


def _int(ctx: Context, key: str, label: str, default: int, low: int, high: int) -> int:
    value = ctx.config.get(key)
    if value in (None, ""):
        return default
    number = parse_number(value, label)
    if number != number.to_integral_value() or not low <= number <= high:
        raise _fail(f"{label} must be a whole number from {low} to {high}.")
    return int(number)


def _zone(ctx: Context, key: str, label: str):
    try:
        # Empty: the recipe's time zone, so "09:00" means 09:00 where the team is.
        return zone(ctx.config.get(key) or ctx.timezone or "UTC")
    except ValueError as exc:
        raise _fail(f"{label}: {exc}.") from None


def _date(ctx: Context):
    tz = _zone(ctx, "timezone", "Time zone")
    value = ctx.config.get("input")
    try:
        return parse_datetime(value, tz)
    except (ValueError, TypeError):
        raise _fail(
            f"“{to_text(value)[:40]}” is not a date. Use ISO-8601 such as "
            "2024-05-01T09:00:00+09:00, or Unix seconds."
        ) from None


# --------------------------------------------------------------------------- text


def extract_email(text: str) -> str | None:
    local_chars = set(string.ascii_letters + string.digits + ".!#$%&'*+/=?^_`{|}~-")
    at = text.find("@")
    while at >= 0:
        start = at
        while start > 0 and text[start - 1] in local_chars:
            start -= 1
        end = at + 1
        while end < len(text) and (text[end].isalnum() or text[end] in ".-"):
            end += 1
        local = text[start:at].strip(".")
        domain = text[at + 1 : end].strip(".-")
        labels = domain.split(".")
        if local and len(labels) >= 2 and all(labels) and labels[-1].isalpha():
            return f"{local}@{domain}"
        at = text.find("@", at + 1)
    return None


def extract_url(text: str) -> str | None:
    lower = text.lower()
    starts = [i for i in (lower.find("https://"), lower.find("http://")) if i >= 0]
    if not starts:
        return None
    start = min(starts)
    end = start
    while end < len(text) and not text[end].isspace() and text[end] not in "<>\"'`":
        end += 1
    url = text[start:end].rstrip(".,;:!?)]}")
    return url if "://" in url and len(url) > url.index("://") + 3 else None


_NUMBER_IN_TEXT = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")


def extract_number(text: str) -> int | float | None:
    match = _NUMBER_IN_TEXT.search(text)
    if not match:
        return None
    return _plain_number(Decimal(match.group().replace(",", "")))


def _truncate(ctx: Context) -> str:
    text = _text(ctx)
    n = _int(ctx, "length", "Length", 100, 0, MAX_INPUT_CHARS)
    if len(text) <= n:
        return text
    return text[: max(n - 1, 0)].rstrip() + ("…" if n else "")


def _replace(ctx: Context) -> str:
    text, find, new = _text(ctx), _text(ctx, "find"), _text(ctx, "replace_with")
    if not find:
        raise _fail("“Find” is empty: say what text to replace.")
    if len(new) > len(find) and len(text) + text.count(find) * (len(new) - len(find)) > (
        MAX_INPUT_CHARS
    ):
        raise _fail(f"The result would be longer than {MAX_INPUT_CHARS:,} characters.")
    return text.replace(find, new)


def _default(ctx: Context) -> str:
    text = _text(ctx)
    return text if text.strip() else _text(ctx, "default_value")


def _split(ctx: Context) -> list[str]:
    text, sep = _text(ctx), _text(ctx, "separator")
    return text.split(sep) if sep else text.split()


# --------------------------------------------------------------------------- numbers


def _number_format(ctx: Context) -> str:
    number = parse_number(ctx.config.get("input"), "The value")
    decimals = _int(ctx, "decimals", "Decimals", 2, 0, 10)
    thousands = ctx.config.get("thousands_separator")
    thousands = "," if thousands is None else to_text(thousands)[:3]
    point = to_text(ctx.config.get("decimal_separator") or ".")[:3]
    rounded = number.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    text = f"{abs(rounded):,.{decimals}f}"
    whole, _, fraction = text.partition(".")
    whole = whole.replace(",", thousands)
    out = whole + (point + fraction if fraction else "")
    return ("-" if rounded < 0 else "") + out


def _number_round(ctx: Context) -> int | float:
    number = parse_number(ctx.config.get("input"), "The value")
    decimals = _int(ctx, "decimals", "Decimals", 0, 0, 10)
    return _plain_number(number.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def _arithmetic(op: str) -> Callable[[Context], int | float]:
    def run(ctx: Context) -> int | float:
        a = parse_number(ctx.config.get("input"), "The value")
        b = parse_number(ctx.config.get("other_number"), "The second number")
        if op in ("divide", "percent") and b == 0:
            raise _fail("The second number is 0, and nothing can be divided by 0.")
        try:
            if op == "add":
                result = a + b
            elif op == "subtract":
                result = a - b
            elif op == "multiply":
                result = a * b
            elif op == "divide":
                result = a / b
            else:
                result = a / b * 100
        except InvalidOperation:
            raise _fail("The result is too large.") from None
        decimals = ctx.config.get("decimals")
        if decimals not in (None, ""):
            places = _int(ctx, "decimals", "Decimals", 2, 0, 10)
            result = result.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        return _plain_number(result)

    return run


# --------------------------------------------------------------------------- dates


UNITS = {"minutes": 60, "hours": 3600, "days": 86400, "weeks": 604800}


def _duration(ctx: Context) -> timedelta:
    amount = parse_number(ctx.config.get("amount"), "The amount")
    unit = ctx.config.get("unit") or "days"
    if unit not in UNITS:
        raise _fail(f"“{unit}” is not a unit; use minutes, hours, days or weeks.")
    seconds = amount * UNITS[unit]
    if abs(seconds) > Decimal(MAX_DURATION.total_seconds()):
        raise _fail("That duration is longer than 100 years.")
    return timedelta(seconds=float(seconds))


def _date_shift(sign: int) -> Callable[[Context], str]:
    def run(ctx: Context) -> str:
        moment = _date(ctx)
        tz = _zone(ctx, "timezone", "Time zone")
        try:
            # Wall-clock arithmetic in the member's zone: "add 1 day" keeps 09:00 across DST.
            local = moment.astimezone(tz).replace(tzinfo=None) + sign * _duration(ctx)
            return local.replace(tzinfo=tz).isoformat()
        except OverflowError:
            raise _fail("The resulting date is out of range.") from None

    return run


def _date_format(ctx: Context) -> str:
    moment = _date(ctx).astimezone(_zone(ctx, "timezone", "Time zone"))
    pattern = _text(ctx, "pattern") or "%Y-%m-%d %H:%M"
    if len(pattern) > 200:
        raise _fail("The date pattern is too long.")
    try:
        return moment.strftime(pattern)
    except ValueError:
        raise _fail(f"“{pattern}” is not a date pattern; try %Y-%m-%d %H:%M.") from None


def _date_parse(ctx: Context) -> str:
    return _date(ctx).astimezone(_zone(ctx, "timezone", "Time zone")).isoformat()


def _date_convert(ctx: Context) -> str:
    return _date(ctx).astimezone(_zone(ctx, "to_timezone", "Convert to time zone")).isoformat()


# --------------------------------------------------------------------------- the action

OPERATIONS: dict[str, tuple[str, Callable[[Context], Any]]] = {
    "text_upper": (_("Text: capitals"), lambda ctx: _text(ctx).upper()),
    "text_lower": (_("Text: small letters"), lambda ctx: _text(ctx).lower()),
    "text_title": (_("Text: Capitalise Each Word"), lambda ctx: _text(ctx).title()),
    "text_trim": (_("Text: trim spaces"), lambda ctx: _text(ctx).strip()),
    "text_replace": (_("Text: replace"), _replace),
    "text_truncate": (_("Text: shorten"), _truncate),
    "text_split": (_("Text: split into a list"), _split),
    "text_extract_email": (_("Text: find an email address"), lambda c: extract_email(_text(c))),
    "text_extract_url": (_("Text: find a web address"), lambda c: extract_url(_text(c))),
    "text_extract_number": (_("Text: find a number"), lambda c: extract_number(_text(c))),
    "text_word_count": (_("Text: count words"), lambda ctx: len(_text(ctx).split())),
    "text_strip_html": (_("Text: remove HTML"), lambda ctx: strip_html(_text(ctx))),
    "text_default": (_("Text: use a default when empty"), _default),
    "number_format": (_("Number: format"), _number_format),
    "number_round": (_("Number: round"), _number_round),
    "number_add": (_("Number: add"), _arithmetic("add")),
    "number_subtract": (_("Number: subtract"), _arithmetic("subtract")),
    "number_multiply": (_("Number: multiply"), _arithmetic("multiply")),
    "number_divide": (_("Number: divide"), _arithmetic("divide")),
    "number_percent": (_("Number: percent of the second number"), _arithmetic("percent")),
    "date_parse": (_("Date: read as ISO-8601"), _date_parse),
    "date_format": (_("Date: format"), _date_format),
    "date_add": (_("Date: add time"), _date_shift(1)),
    "date_subtract": (_("Date: subtract time"), _date_shift(-1)),
    "date_convert_timezone": (_("Date: convert time zone"), _date_convert),
}


def run(ctx: Context) -> dict[str, Any]:
    operation = ctx.config.get("operation")
    if operation not in OPERATIONS:
        raise _fail(f"Choose what to do: “{operation}” is not one of the formatter's operations.")
    return {"output": OPERATIONS[operation][1](ctx)}


ACTION = Action(
    key="formatter",
    label=_("Format text, numbers or dates"),
    run=run,
    effect="read",
    local=True,
    help=_("Transforms one value: change text, calculate with numbers, or rewrite a date."),
    fields=(
        Field(
            "operation",
            _("Operation"),
            kind="choice",
            required=True,
            choices=tuple(Choice(key, label) for key, (label, _run) in OPERATIONS.items()),
        ),
        Field("input", _("Value"), kind="long_text", help=_("The text, number or date to use.")),
        Field("find", _("Find"), help=_("Replace: the text to look for.")),
        Field("replace_with", _("Replace with"), help=_("Replace: the new text (may be empty).")),
        Field("length", _("Length"), kind="number", default=100, help=_("Shorten: characters.")),
        Field("separator", _("Separator"), help=_("Split: where to cut (spaces when empty).")),
        Field("default_value", _("Default"), help=_("Used when the value is empty.")),
        Field("other_number", _("Second number"), kind="number", help=_("For calculations.")),
        Field("decimals", _("Decimals"), kind="number", help=_("Digits after the point.")),
        Field("thousands_separator", _("Thousands separator"), default=","),
        Field("decimal_separator", _("Decimal separator"), default="."),
        Field(
            "pattern",
            _("Date pattern"),
            default="%Y-%m-%d %H:%M",
            help=_("strftime codes, e.g. %Y-%m-%d %H:%M or %d %B %Y."),
        ),
        Field(
            "timezone",
            _("Time zone"),
            help=_(
                "IANA name such as Asia/Seoul; dates without an offset are read in it. "
                "Empty: the recipe's time zone."
            ),
        ),
        Field(
            "to_timezone",
            _("Convert to time zone"),
            help=_("IANA name such as Europe/Paris. Empty: the recipe's time zone."),
        ),
        Field("amount", _("Amount"), kind="number", help=_("Add or subtract time: how much.")),
        Field(
            "unit",
            _("Unit"),
            kind="choice",
            default="days",
            choices=(
                Choice("minutes", _("minutes")),
                Choice("hours", _("hours")),
                Choice("days", _("days")),
                Choice("weeks", _("weeks")),
            ),
        ),
    ),
    outputs=(OutputField("output", _("Result")),),
    sample={"output": "Formatted value"},
)
