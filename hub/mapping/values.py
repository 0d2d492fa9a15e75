"""Plain JSON values as the mapping language sees them: text conversion, bounded copying,
lookups that only ever go into dicts and lists (with a did-you-mean for a near miss), and
the dates, time zones and HTML the filters and built-in steps read."""

from __future__ import annotations

import difflib
import html
import json
import math
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hub.mapping.budget import MAX_VALUE_DEPTH, Budget, scalar_size
from hub.mapping.errors import NOT_FINITE, MappingError

Segment = str | int

_SEGMENT = re.compile(r"[\w-]+")


def dotted(path: Iterable[Segment]) -> str:
    out = ""
    for seg in path:
        if isinstance(seg, int):
            out += f".{seg}"
        elif _SEGMENT.fullmatch(seg):
            out += f".{seg}" if out else seg
        else:
            out += f"[{json.dumps(seg, ensure_ascii=False)}]"
    return out


class Missing:
    """A path that led nowhere; carries the member-facing reason until a default replaces it."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def plain(value: Any, budget: Budget | None = None) -> Any:
    """A copy of ``value`` made only of JSON types, checked for depth and size.

    Iterative, so deep data cannot exhaust the interpreter's stack.
    """
    budget = budget or Budget()
    if not isinstance(value, dict | list | tuple):
        budget.spend(scalar_size(value))
        return value
    root: list[Any] = [None]
    stack: list[tuple[Any, Any, Any, int]] = [(value, root, 0, 1)]
    while stack:
        src, parent, slot, depth = stack.pop()
        if depth > MAX_VALUE_DEPTH:
            raise MappingError(f"This value is nested more than {MAX_VALUE_DEPTH} levels deep.")
        if isinstance(src, dict):
            copy: dict[str, Any] = {}
            parent[slot] = copy
            budget.spend(2)
            for k, v in src.items():
                if not isinstance(k, str):
                    raise MappingError("This value is not plain data (an object key is not text).")
                budget.spend(len(k) + 4)
                if isinstance(v, dict | list | tuple):
                    copy[k] = None
                    stack.append((v, copy, k, depth + 1))
                else:
                    budget.spend(scalar_size(v))
                    copy[k] = v
        else:
            items: list[Any] = [None] * len(src)
            parent[slot] = items
            budget.spend(2 + len(src))
            for i, v in enumerate(src):
                if isinstance(v, dict | list | tuple):
                    stack.append((v, items, i, depth + 1))
                else:
                    budget.spend(scalar_size(v))
                    items[i] = v
    return root[0]


def to_json(value: Any, budget: Budget | None = None) -> str:
    copy = plain(value, budget)
    try:
        return json.dumps(copy, ensure_ascii=False, separators=(",", ":"))
    except ValueError as exc:
        raise MappingError(f"This value cannot be written as text: {exc}") from None


def to_text(value: Any, budget: Budget | None = None) -> str:
    """A value as it appears inside text: null as nothing, booleans as true/false, lists and
    objects as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        try:
            return str(value)
        except ValueError:
            raise MappingError("This number is too long to write as text.") from None
    if isinstance(value, float):
        if not math.isfinite(value):
            raise MappingError(NOT_FINITE)
        # 3.0 reads as "3" to a member; larger or fractional values keep Python's shortest form.
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    return to_json(value, budget)


def kind(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "not plain data"


def resolve(data: Mapping[str, Any], path: tuple[Segment, ...]) -> Any:
    """Follow ``path`` through dicts and lists only; a dead end is a ``Missing``."""
    current: Any = data if isinstance(data, dict) else dict(data)
    for i, seg in enumerate(path):
        here = dotted(path[:i])
        if isinstance(current, dict):
            key = str(seg)
            if key in current:
                current = current[key]
                continue
            return Missing(no_such(path[: i + 1], current.keys()))
        if isinstance(current, list | tuple):
            index = as_index(seg)
            if index is None:
                return Missing(
                    f"“{here}” is a list; use a position such as “{here}.0”, not “{seg}”"
                )
            if -len(current) <= index < len(current):
                current = current[index]
                continue
            return Missing(f"“{here}” has {len(current)} items, so there is no item {index}")
        if current is None:
            return Missing(f"“{here}” is empty, so it has no “{seg}”")
        return Missing(f"“{here}” is {kind(current)}, so it has no “{seg}”")
    return current


def as_index(seg: Segment) -> int | None:
    if isinstance(seg, int):
        return seg
    if re.fullmatch(r"-?\d+", seg):
        return int(seg)
    return None


def no_such(path: tuple[Segment, ...], keys: Iterable[Any]) -> str:
    name = dotted(path)
    parent = path[:-1]
    options = [str(k) for k in keys][:1000]
    close = difflib.get_close_matches(str(path[-1]), options, n=1, cutoff=0.6)
    if close:
        return f"there is no “{name}” — did you mean “{dotted((*parent, close[0]))}”?"
    if parent == ("steps",):
        return f"there is no step “{path[-1]}” before this one"
    return f"there is no “{name}”"


# --------------------------------------------------------------------------- dates and HTML


def parse_datetime(value: Any, tz: ZoneInfo | None = None) -> datetime:
    """A date from ISO-8601 text or Unix seconds/milliseconds, as an aware datetime.

    Times without an offset are taken to be in ``tz`` (UTC when not given).
    """
    tz = tz or ZoneInfo("UTC")
    if isinstance(value, bool) or value is None or value == "":
        raise ValueError("no date given")
    numeric = isinstance(value, int | float) or (
        isinstance(value, str) and re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", value)
    )
    if numeric:
        number = float(value)
        if not math.isfinite(number):
            raise ValueError("not a date")
        if abs(number) >= 1e11:
            number /= 1000
        try:
            return datetime.fromtimestamp(number, tz=UTC).astimezone(tz)
        except (OverflowError, OSError, ValueError):
            raise ValueError("this timestamp is out of range") from None
    if not isinstance(value, str) or len(value) > 64:
        raise ValueError("not a date")
    text = value.strip()
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=tz)
    return parsed


def zone(name: Any) -> ZoneInfo:
    """An IANA time zone by name; ValueError with a member-facing message otherwise."""
    text = to_text(name).strip()
    message = f"“{text[:40]}” is not a time zone; use a name such as Asia/Seoul"
    if not text or len(text) > 64 or ".." in text or text.startswith("/"):
        raise ValueError(message)
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(message) from None


def strip_html(text: str) -> str:
    """Tags removed (script and style with their content), entities decoded; linear time."""
    lower = text.lower()
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        j = text.find("<", i)
        if j < 0:
            out.append(text[i:])
            break
        out.append(text[i:j])
        k = text.find(">", j)
        if k < 0:
            out.append(text[j:])
            break
        tag = lower[j + 1 : k].strip()
        i = k + 1
        for block in ("script", "style"):
            if tag.startswith(block) and (len(tag) == len(block) or not tag[len(block)].isalnum()):
                close = lower.find(f"</{block}", i)
                if close < 0:
                    i = n
                else:
                    end = text.find(">", close)
                    i = n if end < 0 else end + 1
                break
        if tag.startswith(("br", "p", "/p", "div", "/div", "li", "tr")):
            out.append(" ")
    return html.unescape(re.sub(r"[ \t]{2,}", " ", "".join(out))).strip()
