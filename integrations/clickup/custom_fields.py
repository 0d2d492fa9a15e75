"""A ClickUp list's custom fields as step fields, and the values a step gives them as ClickUp
wants them.

Each custom field becomes a field keyed ``cf_<field id>`` (the id never changes when the
field is renamed in ClickUp), typed by the field's ClickUp type: a dropdown offers its
options, a date is read in the recipe's time zone, people are members or email addresses.
Values are sent as ClickUp's Custom Fields guide shows them: a dropdown as its option's id,
labels as option ids, a date as Unix ms with ``value_options.time``, people as
``{"add": [...], "rem": [...]}``.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from integrations.base import Choice, Context, Field, IntegrationError
from integrations.clickup import dates
from integrations.clickup.people import user_ids

PREFIX = "cf_"
KINDS = {
    "drop_down": "choice",
    "labels": "choice",
    "short_text": "text",
    "text": "long_text",
    "number": "number",
    "currency": "number",
    "date": "date",
    "checkbox": "bool",
    "url": "text",
    "email": "text",
    "phone": "text",
    "users": "list",
}
HELP = {
    "date": _("A date (2026-12-04) or a date and time (2026-12-04T17:00)."),
    "users": _("ClickUp user ids or email addresses of the Workspace's members."),
    "url": _("A web address starting with https://"),
}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TRUE = {"true", "yes", "1", "on", "y"}
FALSE = {"false", "no", "0", "off", "n", ""}


def key_of(field_id: str) -> str:
    return PREFIX + field_id


def list_fields(ctx: Context, list_id: str) -> list[dict[str, Any]]:
    """The custom fields of a list (Get Accessible Custom Fields: one call)."""
    with ctx.integration.errors():
        return ctx.client().get(f"list/{list_id}/field").get("fields") or []


def literal(value: Any) -> str:
    """A list or task id typed into the step, or "" when empty or only known during a run."""
    text = str(value or "").strip()
    return "" if "{{" in text else text


def as_fields(definitions: list[dict[str, Any]]) -> list[Field]:
    """Step fields for the custom fields ClickUp lets an integration set."""
    fields = []
    for found in definitions:
        kind = KINDS.get(str(found.get("type")))
        if kind is None:
            continue
        options = (found.get("type_config") or {}).get("options") or []
        choices = tuple(
            Choice(str(o["id"]), str(o.get("name") or o.get("label") or o["id"])) for o in options
        )
        fields.append(
            Field(
                key_of(str(found["id"])),
                str(found.get("name") or found["id"]),
                kind=kind,
                required=bool(found.get("required")),
                help=HELP.get(str(found["type"]), ""),
                choices=choices,
                multiple=found["type"] == "labels",
            )
        )
    return fields


def given(config: dict[str, Any]) -> dict[str, Any]:
    """The custom field values a step's config holds, by field id (empty ones left out)."""
    return {
        key.removeprefix(PREFIX): value
        for key, value in config.items()
        if key.startswith(PREFIX) and value not in (None, "", [])
    }


def _refuse(message: str, **params: Any) -> IntegrationError:
    return IntegrationError(message % params, permanent=True)


def _option(definition: dict[str, Any], value: Any) -> str:
    """A dropdown or label option by id or by name (names are what earlier steps give)."""
    wanted = str(value).strip()
    options = (definition.get("type_config") or {}).get("options") or []
    for option in options:
        names = {str(option.get("id")), str(option.get("name") or option.get("label") or "")}
        if wanted in names or wanted.lower() in {n.lower() for n in names}:
            return str(option["id"])
    names = ", ".join(str(o.get("name") or o.get("label")) for o in options)
    raise _refuse(
        gettext(
            "“%(value)s” is not an option of the ClickUp field “%(field)s”: use one of %(names)s."
        ),
        value=wanted,
        field=definition.get("name"),
        names=names,
    )


def _number(definition: dict[str, Any], value: Any) -> int | float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise _refuse(
            gettext("The ClickUp field “%(field)s” takes a number, not “%(value)s”."),
            field=definition.get("name"),
            value=value,
        ) from None
    return int(number) if number == number.to_integral_value() else float(number)


def _checkbox(definition: dict[str, Any], value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE | FALSE:
        return text in TRUE
    raise _refuse(
        gettext(
            "The ClickUp field “%(field)s” is a checkbox: give true or false, not “%(value)s”."
        ),
        field=definition.get("name"),
        value=value,
    )


def _text(definition: dict[str, Any], value: Any) -> str:
    text = str(value).strip()
    kind = definition["type"]
    if kind == "email" and not EMAIL.match(text):
        raise _refuse(
            gettext("The ClickUp field “%(field)s” takes an email address, not “%(value)s”."),
            field=definition.get("name"),
            value=text,
        )
    if kind == "url" and not text.startswith(("http://", "https://")):
        raise _refuse(
            gettext(
                "The ClickUp field “%(field)s” takes a web address starting with https://, "
                "not “%(value)s”."
            ),
            field=definition.get("name"),
            value=text,
        )
    return text if kind != "text" else str(value)


def current_people(task: dict[str, Any] | None, field_id: str) -> list[int]:
    for item in (task or {}).get("custom_fields") or []:
        if item.get("id") == field_id:
            return [int(u["id"]) for u in item.get("value") or [] if isinstance(u, dict)]
    return []


def value_of(
    ctx: Context,
    definition: dict[str, Any],
    value: Any,
    *,
    task: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``{"value": …}`` (with ``value_options`` for a date) for one custom field. ``task``
    is the task being changed, so people are added and removed against who is there."""
    kind = definition["type"]
    if kind == "drop_down":
        return {"value": _option(definition, value)}
    if kind == "labels":
        items = value.split(",") if isinstance(value, str) else list(value)
        return {"value": [_option(definition, v) for v in items if str(v).strip()]}
    if kind in ("number", "currency"):
        return {"value": _number(definition, value)}
    if kind == "checkbox":
        return {"value": _checkbox(definition, value)}
    if kind == "date":
        ms, timed = dates.parse(value, dates.step_zone(ctx))
        return {"value": ms, "value_options": {"time": timed}}
    if kind == "users":
        wanted = user_ids(ctx, value)
        there = current_people(task, str(definition["id"]))
        change: dict[str, Any] = {"add": [u for u in wanted if u not in there]}
        if task is not None:
            change["rem"] = [u for u in there if u not in wanted]
        return {"value": change}
    return {"value": _text(definition, value)}


def resolve(ctx: Context, list_id: str, values: dict[str, Any]) -> list[dict[str, Any]]:
    """The definitions of the fields ``values`` names, refusing an id the list lacks."""
    if not values:
        return []
    by_id = {str(f["id"]): f for f in list_fields(ctx, list_id)}
    found = []
    for field_id in values:
        definition = by_id.get(field_id)
        if definition is None or definition.get("type") not in KINDS:
            raise _refuse(
                gettext(
                    "The ClickUp list has no custom field %(key)s that Toolstack can set. "
                    "Open the step and pick the list's fields again."
                ),
                key=key_of(field_id),
            )
        found.append(definition)
    return found


def for_create(ctx: Context, list_id: str) -> list[dict[str, Any]]:
    """Create Task's ``custom_fields``: ``[{"id", "value", "value_options"?}]``."""
    values = given(ctx.config)
    return [
        {"id": str(d["id"]), **value_of(ctx, d, values[str(d["id"])])}
        for d in resolve(ctx, list_id, values)
    ]
