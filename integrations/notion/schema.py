"""A data source's properties as step fields and as outputs.

Config names (a public file format): each property's value sits in the step's config under the
property's **name as Notion shows it** — ``{"database": "…", "Name": "Fix login", "Status":
"Done", "Due": "2026-06-05 18:00"}`` — so a recipe file reads like the database. A property
whose name is also one of the step's own fields (``database``, ``page``, ``match_property``)
is keyed by its Notion property id instead. Renaming a property in Notion makes a step that
still uses the old name fail with a message naming it (never writing elsewhere); the step is
fixed by choosing the property again."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from integrations.base import Choice, Context, Field, OutputField
from integrations.notion import people, sources
from integrations.notion.values import WRITABLE

RESERVED = ("database", "page", "match_property", "filters", "sort", "limit", "properties")
FIELD_KINDS = {
    "title": "text",
    "rich_text": "long_text",
    "number": "number",
    "checkbox": "bool",
    "select": "choice",
    "status": "choice",
    "multi_select": "choice",
    "date": "date",
    "people": "choice",
    "url": "text",
    "email": "text",
    "phone_number": "text",
    "relation": "list",
}
OUTPUT_KINDS = {
    **FIELD_KINDS,
    "select": "text",
    "status": "text",
    "multi_select": "list",
    "people": "list",
    "date": "date",
}


def config_key(name: str, spec: dict[str, Any]) -> str:
    return (spec.get("id") or name) if name in RESERVED else name


def _help(ptype: str) -> str:
    return {
        "date": _(
            "A date (2026-06-05) or a date and time (2026-06-05 18:00), read in the recipe's "
            "time zone; “start → end” for a range."
        ),
        "people": _("Pick people, or type their email addresses, separated by commas."),
        "relation": _("Links or ids of the related pages."),
        "multi_select": _("Pick options, or type them separated by commas."),
        "select": _("Pick an option, or type a new one."),
        "status": _("Pick one of the statuses."),
        "checkbox": _("Yes or no."),
    }.get(ptype, "")


def field_for(name: str, spec: dict[str, Any]) -> Field | None:
    ptype = spec.get("type") or ""
    if ptype not in WRITABLE:
        return None
    options = (spec.get(ptype) or {}).get("options") or []
    choices = tuple(Choice(o["name"], o["name"]) for o in options if o.get("name"))
    return Field(
        config_key(name, spec),
        name,
        kind=FIELD_KINDS[ptype],
        required=False,
        help=_help(ptype),
        choices=choices,
        dynamic_choices=people.people_choices if ptype == "people" else None,
        multiple=ptype in ("multi_select", "people"),
    )


def fields_of(source: sources.Source) -> list[Field]:
    made = (field_for(name, spec) for name, spec in source.properties.items())
    return [f for f in made if f is not None]


PERSON = (
    OutputField("id", _("ID")),
    OutputField("name", _("Name")),
    OutputField("email", _("Email")),
)


def outputs_of(source: sources.Source) -> tuple[OutputField, ...]:
    """One output per property, by its name."""
    out = []
    for name, spec in source.properties.items():
        ptype = spec.get("type") or ""
        children = PERSON if ptype == "people" else ()
        out.append(OutputField(name, name, kind=OUTPUT_KINDS.get(ptype, "text"), children=children))
    return tuple(out)


def source_of_step(ctx: Context) -> sources.Source | None:
    """The data source the step's config names (``database``, else ``page``'s parent), or
    None while neither is chosen or one comes from an earlier step."""
    chosen = ctx.config.get("database")
    if chosen and "{{" not in str(chosen):
        return sources.resolve(ctx, chosen)
    page = ctx.config.get("page")
    if page and "{{" not in str(page):
        return sources.of_page(ctx, page)
    return None


def provided_fields(ctx: Context) -> list[Field]:
    found = source_of_step(ctx)
    return fields_of(found) if found else []


def provided_outputs(ctx: Context) -> tuple[OutputField, ...]:
    found = source_of_step(ctx)
    return outputs_of(found) if found else ()
