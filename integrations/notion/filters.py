"""Filter rows (property · operator · value) and sorts as Notion query objects.

Each row becomes the filter condition for its property's type — ``{"property": "Status",
"status": {"equals": "Done"}}`` — with the value read as that type (numbers, yes/no, dates in
the recipe's time zone, people by email). Rows are combined with ``and``. ``created_time`` and
``last_edited_time`` are accepted as property names for Notion's timestamp filters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from integrations.base import Choice, IntegrationError
from integrations.notion import values
from integrations.notion.sources import Source

TEXT_OPS = (
    "equals",
    "does_not_equal",
    "contains",
    "does_not_contain",
    "starts_with",
    "ends_with",
    "is_empty",
    "is_not_empty",
)
NUMBER_OPS = (
    "equals",
    "does_not_equal",
    "greater_than",
    "less_than",
    "greater_than_or_equal_to",
    "less_than_or_equal_to",
    "is_empty",
    "is_not_empty",
)
DATE_OPS = ("equals", "before", "after", "on_or_before", "on_or_after", "is_empty", "is_not_empty")
OPTION_OPS = ("equals", "does_not_equal", "is_empty", "is_not_empty")
LIST_OPS = ("contains", "does_not_contain", "is_empty", "is_not_empty")
LIST_TYPES = ("multi_select", "people", "relation")
OPERATORS = {
    "title": TEXT_OPS,
    "rich_text": TEXT_OPS,
    "url": TEXT_OPS,
    "email": TEXT_OPS,
    "phone_number": TEXT_OPS,
    "number": NUMBER_OPS,
    "checkbox": ("equals", "does_not_equal"),
    "select": OPTION_OPS,
    "status": OPTION_OPS,
    "multi_select": LIST_OPS,
    "people": LIST_OPS,
    "relation": LIST_OPS,
    "date": DATE_OPS,
}
TIMESTAMPS = ("created_time", "last_edited_time")
OPERATOR_CHOICES = (
    Choice("equals", _l("is")),
    Choice("does_not_equal", _l("is not")),
    Choice("contains", _l("contains")),
    Choice("does_not_contain", _l("does not contain")),
    Choice("starts_with", _l("starts with")),
    Choice("ends_with", _l("ends with")),
    Choice("greater_than", _l("is greater than")),
    Choice("less_than", _l("is less than")),
    Choice("greater_than_or_equal_to", _l("is at least")),
    Choice("less_than_or_equal_to", _l("is at most")),
    Choice("before", _l("is before")),
    Choice("after", _l("is after")),
    Choice("on_or_before", _l("is on or before")),
    Choice("on_or_after", _l("is on or after")),
    Choice("is_empty", _l("is empty")),
    Choice("is_not_empty", _l("is not empty")),
)
WITHOUT_VALUE = ("is_empty", "is_not_empty")


def unknown_property(source: Source, name: str) -> IntegrationError:
    return IntegrationError(
        _(
            "The Notion database “%(title)s” has no property “%(name)s” — was it renamed? "
            "Choose it again. Its properties: %(names)s."
        )
        % {"title": source.title, "name": name, "names": ", ".join(source.properties)},
        permanent=True,
    )


def _value(ptype: str, spec: dict, name: str, raw: Any, ctx_tz: str, person: Callable) -> Any:
    if ptype in LIST_TYPES:
        parts = values.as_list(raw)
        if len(parts) != 1:
            raise IntegrationError(
                _("“%(name)s”: give one value to look for.") % {"name": name}, permanent=True
            )
        raw = parts[0]
    if ptype == "multi_select":
        return str(raw).strip()
    encoded = values.encode(name, spec, raw, timezone=ctx_tz, person=person)[ptype]
    if ptype in ("title", "rich_text"):
        return str(raw)
    if ptype in ("select", "status"):
        return encoded["name"] if encoded else ""
    if ptype == "date":
        return encoded["start"] if encoded else ""
    if ptype in ("people", "relation"):
        return encoded[0]["id"]
    return encoded


def condition(
    source: Source,
    name: str,
    op: str,
    raw: Any,
    *,
    timezone: str = "UTC",
    person: Callable[[str], str] | None = None,
) -> dict[str, Any]:
    """One Notion filter object for ``name op raw``."""
    op = str(op or "equals").strip()
    spec = source.property(str(name))
    if spec is None and name in TIMESTAMPS:
        spec, ptype = {"type": "date", "name": name}, name
    elif spec is None:
        raise unknown_property(source, str(name))
    else:
        ptype = spec["type"]
    kind = "date" if ptype in TIMESTAMPS else ptype
    allowed = OPERATORS.get(kind)
    if allowed is None:
        raise IntegrationError(
            _("Toolstack cannot filter on “%(name)s” (a %(type)s property).")
            % {"name": name, "type": ptype},
            permanent=True,
        )
    if op not in allowed:
        raise IntegrationError(
            _("“%(name)s” cannot be filtered with “%(op)s”; use one of: %(ops)s.")
            % {"name": name, "op": op, "ops": ", ".join(allowed)},
            permanent=True,
        )
    if op in WITHOUT_VALUE:
        test: Any = True
    else:
        test = _value(kind, spec, str(name), raw, timezone, person)
    if ptype in TIMESTAMPS:
        return {"timestamp": ptype, ptype: {op: test}}
    return {"property": spec["name"], ptype: {op: test}}


def combined(
    source: Source, rows: Any, *, timezone: str = "UTC", person: Callable | None = None
) -> dict[str, Any] | None:
    """Every row's condition, all of which must hold; None for no rows."""
    made = []
    for row in rows or []:
        if not isinstance(row, dict) or not row.get("property"):
            raise IntegrationError(
                _("Each filter needs a property, an operator and a value."), permanent=True
            )
        made.append(
            condition(
                source,
                row["property"],
                row.get("operator") or "equals",
                row.get("value"),
                timezone=timezone,
                person=person,
            )
        )
    if not made:
        return None
    return made[0] if len(made) == 1 else {"and": made}


def sorts(source: Source, given: Any) -> list[dict[str, Any]]:
    """Notion sorts from rows ``{property, direction}`` or a text such as ``Due descending``."""
    rows = given if isinstance(given, list) else ([given] if given else [])
    out = []
    for row in rows:
        if isinstance(row, str):
            name, _sep, direction = row.strip().rpartition(" ")
            if direction.lower() not in ("ascending", "descending"):
                name, direction = row.strip(), "ascending"
            row = {"property": name, "direction": direction}
        name, direction = str(row.get("property") or ""), row.get("direction") or "ascending"
        if direction not in ("ascending", "descending"):
            raise IntegrationError(
                _("Sort “%(name)s” ascending or descending.") % {"name": name}, permanent=True
            )
        if name in TIMESTAMPS and source.property(name) is None:
            out.append({"timestamp": name, "direction": direction})
            continue
        spec = source.property(name)
        if spec is None:
            raise unknown_property(source, name)
        out.append({"property": spec["name"], "direction": direction})
    return out
