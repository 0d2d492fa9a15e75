"""Plain values to Notion property values and back.

A member types plain values (``Done``, ``2026-06-05 18:00``, ``yes``, ``ada@acme.test``); each
becomes the property object Notion takes for the property's type, or a permanent error that
names the property and says what to write. Reading goes the other way: every property of a
page becomes a plain value (text, number, bool, a list of names, an ISO date with its offset).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _

from integrations import dates
from integrations.base import IntegrationError
from integrations.notion import writing
from integrations.notion.calls import page_id
from integrations.notion.content import plain

WRITABLE = (
    "title",
    "rich_text",
    "number",
    "select",
    "multi_select",
    "status",
    "date",
    "people",
    "checkbox",
    "url",
    "email",
    "phone_number",
    "relation",
)
TRUE_WORDS = {"true", "yes", "y", "1", "on", "checked", "예", "네"}
FALSE_WORDS = {"false", "no", "n", "0", "off", "unchecked", "", "아니오", "아니요"}


def _bad(name: str, what: str) -> IntegrationError:
    return IntegrationError(
        _("“%(name)s”: %(what)s") % {"name": name, "what": what}, permanent=True
    )


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def as_list(value: Any) -> list[Any]:
    """A list as given, or a comma-separated text split into its parts."""
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple):
        return [v for v in value if not _empty(v)]
    return [part.strip() for part in str(value).split(",") if part.strip()]


def _text(value: Any) -> list[dict[str, Any]]:
    parts = writing.pieces(str(value if value is not None else ""))
    return [{"type": "text", "text": {"content": p}} for p in parts[: writing.MAX_RICH]]


def _number(name: str, value: Any) -> float | int | None:
    if _empty(value):
        return None
    if isinstance(value, bool):
        raise _bad(name, _("write a number, such as 42 or 3.5."))
    if isinstance(value, int | float):
        return value
    text = str(value).strip().replace(",", "")
    try:
        number = float(text)
    except ValueError:
        raise _bad(name, _("write a number, such as 42 or 3.5.")) from None
    return int(number) if number.is_integer() and "." not in text else number


def _checkbox(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value if value is not None else "").strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise _bad(name, _("write yes or no."))


def _option(name: str, spec: dict[str, Any], value: Any, *, must_exist: bool) -> dict[str, str]:
    text = str(value).strip()
    options = (spec.get(spec["type"]) or {}).get("options") or []
    for known in options:
        if known.get("name", "").lower() == text.lower():
            return {"name": known["name"]}
    if must_exist:
        names = ", ".join(o.get("name", "") for o in options)
        raise _bad(
            name,
            _("“%(value)s” is not one of its options (%(names)s).")
            % {
                "value": text,
                "names": names,
            },
        )
    return {"name": text}


def _date(name: str, value: Any, timezone: str) -> dict[str, Any] | None:
    """A date or date-time; one without an offset is read in the recipe's time zone and sent
    with that offset. ``{"start", "end"}`` or ``start → end`` gives a range."""
    if _empty(value):
        return None
    if isinstance(value, dict):
        start, end = value.get("start"), value.get("end")
    else:
        start, _arrow, end = str(value).partition("→")
    zone = dates.zone(timezone)

    def one(raw: Any) -> str:
        try:
            moment, has_time = dates.moment(str(raw).strip(), zone)
        except IntegrationError as error:
            raise _bad(name, error.message) from None
        return moment.isoformat() if has_time else moment.date().isoformat()

    out: dict[str, Any] = {"start": one(start)}
    if not _empty(end) and str(end).strip():
        out["end"] = one(end)
    return out


def encode(
    name: str,
    spec: dict[str, Any],
    value: Any,
    *,
    timezone: str = "UTC",
    person: Callable[[str], str] | None = None,
) -> dict[str, Any]:
    """The property value Notion takes for ``value``. ``person`` turns an email address
    into a user id (people properties)."""
    ptype = spec.get("type")
    if ptype in ("title", "rich_text"):
        return {ptype: _text(value) if not _empty(value) else []}
    if ptype == "number":
        return {"number": _number(name, value)}
    if ptype == "checkbox":
        return {"checkbox": _checkbox(name, value)}
    if ptype in ("url", "email", "phone_number"):
        return {ptype: None if _empty(value) else str(value).strip()}
    if ptype == "select":
        return {"select": None if _empty(value) else _option(name, spec, value, must_exist=False)}
    if ptype == "status":
        return {"status": None if _empty(value) else _option(name, spec, value, must_exist=True)}
    if ptype == "multi_select":
        chosen = [_option(name, spec, v, must_exist=False) for v in as_list(value)]
        return {"multi_select": chosen}
    if ptype == "date":
        return {"date": _date(name, value, timezone)}
    if ptype == "people":
        ids = []
        for who in as_list(value):
            text = str(who.get("id") if isinstance(who, dict) else who).strip()
            ids.append({"id": person(text) if person and "@" in text else text})
        return {"people": ids}
    if ptype == "relation":
        related = []
        for item in as_list(value):
            raw = item.get("id") if isinstance(item, dict) else item
            related.append({"id": page_id(raw)})
        return {"relation": related}
    raise _bad(name, _("Toolstack cannot write %(type)s properties.") % {"type": ptype})


# ------------------------------------------------------------ reading


def _person(user: dict[str, Any]) -> dict[str, str]:
    return {
        "id": user.get("id") or "",
        "name": user.get("name") or "",
        "email": (user.get("person") or {}).get("email") or "",
    }


def _formula(value: dict[str, Any]) -> Any:
    kind = value.get("type") or ""
    inner = value.get(kind)
    return inner.get("start") if kind == "date" and isinstance(inner, dict) else inner


def decode(prop: dict[str, Any]) -> Any:
    """A page's property as a plain value."""
    ptype = prop.get("type") or ""
    value = prop.get(ptype)
    if ptype in ("title", "rich_text"):
        return plain(value or [])
    if ptype in ("select", "status"):
        return (value or {}).get("name") or ""
    if ptype == "multi_select":
        return [o.get("name") or "" for o in value or []]
    if ptype == "date":
        if not value:
            return ""
        start = value.get("start") or ""
        return f"{start} → {value['end']}" if value.get("end") else start
    if ptype in ("people", "created_by", "last_edited_by"):
        people = value if isinstance(value, list) else [value or {}]
        found = [_person(p) for p in people if p]
        return found if ptype == "people" else (found[0] if found else {})
    if ptype == "relation":
        return [r.get("id") or "" for r in value or []]
    if ptype == "formula":
        return _formula(value or {})
    if ptype == "rollup":
        inner = (value or {}).get((value or {}).get("type") or "")
        return inner if not isinstance(inner, list) else [decode(i) for i in inner]
    if ptype == "unique_id":
        prefix = (value or {}).get("prefix")
        number = (value or {}).get("number")
        return f"{prefix}-{number}" if prefix else number
    if ptype == "files":
        return [(f.get(f.get("type") or "") or {}).get("url") or f.get("name") for f in value or []]
    if ptype == "checkbox":
        return bool(value)
    if ptype == "number":
        return value  # None when empty: no number is not zero
    return value if value is not None else ""


def plain_values(page: dict[str, Any]) -> dict[str, Any]:
    """Every property by name, then the page's ``id``, ``url`` and timestamps (these win
    when a property shares their name)."""
    out = {name: decode(prop) for name, prop in (page.get("properties") or {}).items()}
    out.update(
        id=page.get("id") or "",
        url=page.get("url") or "",
        created_time=page.get("created_time") or "",
        last_edited_time=page.get("last_edited_time") or "",
    )
    return out
