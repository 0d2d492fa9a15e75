"""The Notion fake's database properties: schemas of every writable type, the checks
``pages.create`` / ``pages.update`` make on property values (``validation_error`` bodies that
name the property), reading a value back for filters and sorts, and the filter operators per
property type.

Confirmed in Notion's public reference (property values, filter conditions): the value shapes
per type, that a select or multi-select option that does not exist yet is added to the
schema while a status option must exist, the filter operator names per type. Guessed: the
exact wording of each validation message."""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

STATUS_OPTIONS = ("Not started", "In progress", "Done")
COLOURS = ("default", "gray", "brown", "orange", "yellow", "green", "blue", "purple", "pink")
TEXT_TYPES = ("title", "rich_text", "url", "email", "phone_number")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$")


class Invalid(Exception):
    """A property value Notion refuses: the message of its ``validation_error``."""


def option(name: str, index: int = 0) -> dict[str, Any]:
    return {"id": secrets.token_urlsafe(3), "name": name, "color": COLOURS[index % len(COLOURS)]}


def schema_entry(name: str, spec: Any) -> dict[str, Any]:
    """One property of a data source's schema from ``"type"`` or ``("type", extra)``: the
    options of a select, multi-select or status, or the data source a relation points to."""
    ptype, extra = (spec, None) if isinstance(spec, str) else spec
    pid = "title" if ptype == "title" else secrets.token_urlsafe(3)
    config: dict[str, Any] = {}
    if ptype in ("select", "multi_select"):
        config = {"options": [option(o, i) for i, o in enumerate(extra or ())]}
    elif ptype == "status":
        names = extra or STATUS_OPTIONS
        config = {"options": [option(o, i) for i, o in enumerate(names)], "groups": []}
    elif ptype == "number":
        config = {"format": extra or "number"}
    elif ptype == "relation":
        config = {"data_source_id": extra, "type": "single_property", "single_property": {}}
    return {"id": pid, "name": name, "type": ptype, ptype: config}


def _where(name: str, ptype: str) -> str:
    return f"body.properties.{name}.{ptype}"


def _shown(value: Any) -> str:
    return "undefined" if value is None else repr(value).replace("'", '"')


def check_value(fake: Any, spec: dict[str, Any], raw: Any, text: Any) -> Any:
    """The stored value of one property as Notion keeps it, or ``Invalid``. ``text`` checks
    rich text arrays (the fake's own limits for titles and text)."""
    name, ptype = spec["name"], spec["type"]
    where = _where(name, ptype)
    if ptype in ("title", "rich_text"):
        return text(raw, where)
    if ptype == "number":
        if raw is not None and (isinstance(raw, bool) or not isinstance(raw, int | float)):
            raise Invalid(f"{where} should be a number or `null`, instead was `{_shown(raw)}`.")
        return raw
    if ptype == "checkbox":
        if not isinstance(raw, bool):
            raise Invalid(f"{where} should be a boolean, instead was `{_shown(raw)}`.")
        return raw
    if ptype in ("url", "email", "phone_number"):
        if raw is not None and not isinstance(raw, str):
            raise Invalid(f"{where} should be a string or `null`, instead was `{_shown(raw)}`.")
        return raw or None
    if ptype in ("select", "status"):
        return None if raw is None else _option(spec, raw, where, create=ptype == "select")
    if ptype == "multi_select":
        if not isinstance(raw, list):
            raise Invalid(f"{where} should be an array, instead was `{_shown(raw)}`.")
        return [_option(spec, o, f"{where}[{i}]", create=True) for i, o in enumerate(raw)]
    if ptype == "date":
        return None if raw is None else _date(raw, where)
    if ptype == "people":
        return _people(fake, raw, where)
    if ptype == "relation":
        return _relation(fake, spec, raw, where)
    raise Invalid(f"{where}: the fake does not write `{ptype}` properties.")


def _option(spec: dict[str, Any], raw: Any, where: str, *, create: bool) -> dict[str, Any]:
    if not isinstance(raw, dict) or not isinstance(raw.get("name") or raw.get("id"), str):
        raise Invalid(f"{where}.name should be defined, instead was `undefined`.")
    options = spec[spec["type"]]["options"]
    for known in options:
        if raw.get("id") == known["id"] or raw.get("name") == known["name"]:
            return dict(known)
    if not create or "name" not in raw:
        raise Invalid(
            f'Invalid status option. Status option "{raw.get("name") or raw.get("id")}" does '
            f'not exist for property "{spec["name"]}".'
        )
    if "," in raw["name"]:
        raise Invalid(f"{where}.name should not contain commas.")
    made = option(raw["name"], len(options))
    options.append(made)
    return dict(made)


def _date(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict) or not isinstance(raw.get("start"), str):
        raise Invalid(f"{where}.start should be defined, instead was `undefined`.")
    for key in ("start", "end"):
        value = raw.get(key)
        if value is not None and not DATE_RE.match(value):
            raise Invalid(f"{where}.{key} should be a valid ISO 8601 date string.")
    return {"start": raw["start"], "end": raw.get("end"), "time_zone": raw.get("time_zone")}


def _people(fake: Any, raw: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise Invalid(f"{where} should be an array, instead was `{_shown(raw)}`.")
    out = []
    for i, person in enumerate(raw):
        pid = str((person or {}).get("id") or "")
        user = fake.users.get(pid.replace("-", "") and _dashed(pid))
        if user is None:
            raise Invalid(f"{where}[{i}].id: could not find user with ID: {pid}.")
        out.append({k: v for k, v in user.items() if k != "request_id"})
    return out


def _relation(fake: Any, spec: dict[str, Any], raw: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise Invalid(f"{where} should be an array, instead was `{_shown(raw)}`.")
    out = []
    for i, item in enumerate(raw):
        pid = _dashed(str((item or {}).get("id") or ""))
        if pid not in fake.pages:
            raise Invalid(f"{where}[{i}].id: could not find page with ID: {pid}.")
        out.append({"id": pid})
    return out


def _dashed(value: str) -> str:
    raw = value.replace("-", "").lower()
    return str(uuid.UUID(raw)) if re.fullmatch(r"[0-9a-f]{32}", raw) else value


# ------------------------------------------------------------ reading back, filters


def plain_of(prop: dict[str, Any] | None) -> Any:
    """A property's value as filters and sorts compare it."""
    if not prop:
        return None
    ptype = prop["type"]
    value = prop.get(ptype)
    if ptype in ("title", "rich_text"):
        return "".join(i.get("plain_text", "") for i in value or [])
    if ptype in ("select", "status"):
        return value["name"] if value else None
    if ptype == "multi_select":
        return [o["name"] for o in value or []]
    if ptype in ("people", "relation"):
        return [p["id"] for p in value or []]
    if ptype == "date":
        return value["start"] if value else None
    return value


def instant(value: str) -> float:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


OPERATORS = {
    "title": {
        "equals",
        "does_not_equal",
        "contains",
        "does_not_contain",
        "starts_with",
        "ends_with",
        "is_empty",
        "is_not_empty",
    },
    "number": {
        "equals",
        "does_not_equal",
        "greater_than",
        "less_than",
        "greater_than_or_equal_to",
        "less_than_or_equal_to",
        "is_empty",
        "is_not_empty",
    },
    "checkbox": {"equals", "does_not_equal"},
    "select": {"equals", "does_not_equal", "is_empty", "is_not_empty"},
    "multi_select": {"contains", "does_not_contain", "is_empty", "is_not_empty"},
    "date": {
        "equals",
        "before",
        "after",
        "on_or_before",
        "on_or_after",
        "is_empty",
        "is_not_empty",
    },
    "people": {"contains", "does_not_contain", "is_empty", "is_not_empty"},
}
for _alias, _base in (
    ("rich_text", "title"),
    ("url", "title"),
    ("email", "title"),
    ("phone_number", "title"),
    ("status", "select"),
    ("relation", "people"),
):
    OPERATORS[_alias] = OPERATORS[_base]


def matches(value: Any, condition: dict[str, Any], ptype: str, name: str) -> bool:
    """Whether ``value`` (read by ``plain_of``) meets one filter condition of a ``ptype``."""
    allowed = OPERATORS.get(ptype, set())
    for op, expected in condition.items():
        if op not in allowed:
            raise Invalid(
                f"body.filter.{ptype}.{op} is not a filter condition for property `{name}` "
                f"of type `{ptype}`."
            )
        if not _holds(op, value, expected, ptype):
            return False
    return True


def _holds(op: str, value: Any, expected: Any, ptype: str) -> bool:
    empty = value in (None, "", [])
    if op == "is_empty":
        return empty
    if op == "is_not_empty":
        return not empty
    if isinstance(value, list):
        if op == "contains":
            return expected in value
        return expected not in value  # does_not_contain
    if ptype in TEXT_TYPES:
        text, want = str(value or ""), str(expected)
        return {
            "equals": text == want,
            "does_not_equal": text != want,
            "contains": want.lower() in text.lower(),
            "does_not_contain": want.lower() not in text.lower(),
            "starts_with": text.lower().startswith(want.lower()),
            "ends_with": text.lower().endswith(want.lower()),
        }[op]
    if op == "equals" and ptype != "date":
        return value == expected
    if op == "does_not_equal":
        return value != expected
    if value is None:
        return False
    left, right = value, expected
    if ptype == "date":
        if op == "equals":
            return (
                str(value)[:10] == str(expected)[:10]
                if len(expected) == 10
                else (instant(value) == instant(expected))
            )
        left, right = instant(value), instant(expected)
    return {
        "greater_than": left > right,
        "after": left > right,
        "less_than": left < right,
        "before": left < right,
        "greater_than_or_equal_to": left >= right,
        "on_or_after": left >= right,
        "less_than_or_equal_to": left <= right,
        "on_or_before": left <= right,
    }[op]
