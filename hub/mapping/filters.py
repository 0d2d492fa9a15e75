"""The fixed registry of filters the mapping language offers (see ``hub.mapping``)."""

from __future__ import annotations

import math
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from hub.mapping.budget import MAX_LIST_ITEMS, MAX_OUTPUT_CHARS, Budget
from hub.mapping.values import (
    Missing,
    kind,
    parse_datetime,
    resolve,
    strip_html,
    to_json,
    to_text,
    zone,
)


class FilterError(Exception):
    pass


@dataclass(frozen=True)
class FilterSpec:
    name: str
    func: Callable[..., Any]
    usage: str
    help: str
    min_args: int = 0
    max_args: int = 0
    handles_missing: bool = False
    args: tuple[str, ...] = field(default_factory=tuple)
    # The work charged to the render's budget: "input" — the filter goes through its input
    # (what it reads and what it writes); "output" — it only writes its result (a slice);
    # "none" — it looks at a few characters or items whatever the size.
    cost: str = "input"

    def arity_text(self) -> str:
        if self.max_args == 0:
            return "no arguments"
        if self.min_args == self.max_args:
            return f"{self.min_args} argument{'s' if self.min_args > 1 else ''}"
        return f"{self.min_args} to {self.max_args} arguments"


def _text_arg(value: Any) -> str:
    if isinstance(value, Missing):
        raise FilterError(value.reason)
    return to_text(value)


def _cap_text(text: str) -> str:
    if len(text) > MAX_OUTPUT_CHARS:
        raise FilterError(f"the result is longer than {MAX_OUTPUT_CHARS:,} characters")
    return text


def _int_arg(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FilterError(f"{what} must be a whole number, not “{value}”")
    if isinstance(value, float) and not value.is_integer():
        raise FilterError(f"{what} must be a whole number, not “{value}”")
    return int(value)


def _f_default(value: Any, fallback: Any) -> Any:
    if isinstance(value, Missing) or value is None or value == "":
        return fallback
    return value


def _f_truncate(value: Any, length: Any) -> str:
    n = _int_arg(length, "the length")
    if n < 0:
        raise FilterError("the length cannot be negative")
    text = _text_arg(value)
    if len(text) <= n:
        return text
    if n == 0:
        return ""
    return text[: n - 1].rstrip() + "…"


def _f_replace(value: Any, old: Any, new: Any = "") -> str:
    text = _text_arg(value)
    old, new = to_text(old), to_text(new)
    if not old:
        raise FilterError('say what to replace, e.g. replace:"old","new"')
    growth = len(new) - len(old)
    if growth > 0 and len(text) + text.count(old) * growth > MAX_OUTPUT_CHARS:
        raise FilterError(f"the result would be longer than {MAX_OUTPUT_CHARS:,} characters")
    return text.replace(old, new)


def _f_split(value: Any, sep: Any = None) -> list[str]:
    text = _text_arg(value)
    if sep is None:
        parts = text.split(maxsplit=MAX_LIST_ITEMS)
    else:
        sep = to_text(sep)
        if not sep:
            raise FilterError("the separator cannot be empty")
        parts = text.split(sep, MAX_LIST_ITEMS)
    if len(parts) > MAX_LIST_ITEMS:
        raise FilterError(f"the result would have more than {MAX_LIST_ITEMS:,} items")
    return parts


def _list_arg(value: Any, name: str) -> list[Any]:
    if isinstance(value, Missing):
        raise FilterError(value.reason)
    if isinstance(value, list | tuple):
        return list(value)
    raise FilterError(f"{name} needs a list, but this is {kind(value)}")


def _f_join(value: Any, sep: Any = ", ") -> str:
    items = _list_arg(value, "join")
    sep = to_text(sep)
    budget = Budget()
    pieces = []
    for item in items:
        piece = to_text(item, budget)
        budget.spend(len(piece) + len(sep))
        pieces.append(piece)
    return sep.join(pieces)


def _f_first(value: Any) -> Any:
    if isinstance(value, str):
        return value[:1]
    if value is None:
        return None
    items = _list_arg(value, "first")
    return items[0] if items else None


def _f_last(value: Any) -> Any:
    if isinstance(value, str):
        return value[-1:]
    if value is None:
        return None
    items = _list_arg(value, "last")
    return items[-1] if items else None


def _f_length(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, str | list | tuple | dict):
        return len(value)
    return len(to_text(value))


def _f_slice(value: Any, start: Any, end: Any = None) -> Any:
    a = _int_arg(start, "the start")
    b = None if end is None else _int_arg(end, "the end")
    if isinstance(value, str):
        return value[a:b]
    return _list_arg(value, "slice")[a:b]


def _number(value: Any) -> int | float:
    if isinstance(value, Missing):
        raise FilterError(value.reason)
    if isinstance(value, bool):
        raise FilterError(f"“{to_text(value)}” is not a number")
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise FilterError(f"“{value}” is not a finite number")
        return value
    text = to_text(value).strip().replace(",", "").replace(" ", "")
    if len(text) > 100 or not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", text):
        raise FilterError(f"“{to_text(value)[:40]}” is not a number")
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    number = float(text)
    if not math.isfinite(number):
        # "1e999" reads as infinity, which no step can use and no database can store.
        raise FilterError(f"“{text[:40]}” is too large a number")
    return number


def _f_round(value: Any, places: Any = 0) -> int | float:
    n = _int_arg(places, "the number of decimals")
    if not -10 <= n <= 15:
        raise FilterError("the number of decimals must be between -10 and 15")
    number = _number(value)
    try:
        rounded = Decimal(str(number)).quantize(Decimal(1).scaleb(-n), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise FilterError("this number is too large to round") from None
    return int(rounded) if n <= 0 else float(rounded)


def _f_text(value: Any) -> str:
    return _text_arg(value)


def _f_json(value: Any) -> str:
    if isinstance(value, Missing):
        raise FilterError(value.reason)
    return to_json(value)


def _f_date(value: Any, fmt: Any = None, tz: Any = "UTC") -> str:
    try:
        zone_info = zone(tz)
    except ValueError as exc:
        raise FilterError(str(exc)) from None
    if isinstance(value, Missing):
        raise FilterError(value.reason)
    try:
        moment = parse_datetime(value, zone_info).astimezone(zone_info)
    except ValueError:
        raise FilterError(
            f"“{to_text(value)[:40]}” is not a date; use ISO-8601 such as 2024-05-01T09:00:00Z "
            "or Unix seconds"
        ) from None
    if fmt is None or to_text(fmt).lower() == "iso":
        return moment.isoformat()
    try:
        return _cap_text(moment.strftime(to_text(fmt)))
    except ValueError:
        raise FilterError(f'“{fmt}” is not a date pattern; use e.g. "%Y-%m-%d %H:%M"') from None


def _f_lines(value: Any) -> list[str]:
    text = _text_arg(value)
    if text.count("\n") > MAX_LIST_ITEMS:
        raise FilterError(f"the result would have more than {MAX_LIST_ITEMS:,} items")
    return [line.strip() for line in text.splitlines() if line.strip()]


def _f_strip_html(value: Any) -> str:
    return strip_html(_text_arg(value))


def _f_urlencode(value: Any) -> str:
    return _cap_text(urllib.parse.quote(_text_arg(value), safe=""))


def _f_pluck(value: Any, key: Any) -> list[Any]:
    items = _list_arg(value, "pluck")
    path = tuple(to_text(key).split("."))
    out = []
    for item in items:
        got = resolve(item, path) if isinstance(item, dict) else None
        out.append(None if isinstance(got, Missing) else got)
    return out


def _f_number(value: Any) -> int | float:
    return _number(value)


def _text_filter(func: Callable[[str], str]) -> Callable[[Any], str]:
    return lambda value: func(_text_arg(value))


_SPECS = [
    FilterSpec(
        "default",
        _f_default,
        'default:"none"',
        "a fallback when missing or empty",
        1,
        1,
        handles_missing=True,
        args=("fallback",),
        cost="none",
    ),
    FilterSpec("upper", _text_filter(str.upper), "upper", "text in capitals"),
    FilterSpec("lower", _text_filter(str.lower), "lower", "text in small letters"),
    FilterSpec("trim", _text_filter(str.strip), "trim", "text without spaces at either end"),
    FilterSpec("title", _text_filter(str.title), "title", "Each Word Capitalised"),
    FilterSpec(
        "truncate",
        _f_truncate,
        "truncate:200",
        "at most n characters, ending with … when shortened",
        1,
        1,
        args=("length",),
        cost="output",
    ),
    FilterSpec(
        "replace",
        _f_replace,
        'replace:"old","new"',
        "every old replaced with new",
        1,
        2,
        args=("find", "replace with"),
    ),
    FilterSpec(
        "split",
        _f_split,
        'split:","',
        "text cut into a list at each separator",
        0,
        1,
        args=("separator",),
    ),
    FilterSpec("join", _f_join, 'join:", "', "a list joined into text", 0, 1, args=("separator",)),
    FilterSpec("first", _f_first, "first", "the first item of a list", cost="none"),
    FilterSpec("last", _f_last, "last", "the last item of a list", cost="none"),
    FilterSpec("length", _f_length, "length", "how many items or characters", cost="none"),
    FilterSpec(
        "slice",
        _f_slice,
        "slice:0,3",
        "items from position a up to b",
        1,
        2,
        args=("from", "to"),
        cost="output",
    ),
    FilterSpec(
        "round", _f_round, "round:2", "a number rounded to n decimals", 0, 1, args=("decimals",)
    ),
    FilterSpec("number", _f_number, "number", "text such as 1,234.50 read as a number"),
    FilterSpec("text", _f_text, "text", "any value as text"),
    FilterSpec("json", _f_json, "json", "any value as JSON text"),
    FilterSpec(
        "date",
        _f_date,
        'date:"%Y-%m-%d %H:%M","Asia/Seoul"',
        "a date written with a pattern in a time zone",
        0,
        2,
        args=("pattern", "time zone"),
    ),
    FilterSpec("lines", _f_lines, "lines", "text cut into a list of non-empty lines"),
    FilterSpec("strip_html", _f_strip_html, "strip_html", "text without HTML tags"),
    FilterSpec("urlencode", _f_urlencode, "urlencode", "text made safe for a URL"),
    FilterSpec(
        "pluck",
        _f_pluck,
        'pluck:"name"',
        "from a list of objects, each one's key",
        1,
        1,
        args=("key",),
    ),
]

FILTERS: dict[str, FilterSpec] = {spec.name: spec for spec in _SPECS}


def filter_docs() -> list[dict[str, Any]]:
    """The filters for the editor's help: name, example, description, argument names."""
    return [
        {"name": s.name, "usage": s.usage, "help": s.help, "args": list(s.args)} for s in _SPECS
    ]
