"""Notion database rows: create one, update one, find one or create it.

Property values come in the step's config by property name (see ``schema``); each action's
preview is built by the same function as the request it sends."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from integrations.base import Action, Context, Field, IntegrationError, OutputField
from integrations.notion import filters, rows, schema, sources
from integrations.notion.calls import call, page_id
from integrations.notion.people import People
from integrations.notion.values import plain_values

DATABASE_FIELD = Field(
    "database",
    _("Database"),
    kind="choice",
    required=True,
    dynamic_choices=sources.data_source_choices,
    help=_("Pick a database shared with Toolstack, or paste its link (in Notion: ⋯ → Copy link)."),
)
ROW_OUTPUTS = (
    OutputField("id", _("Page ID")),
    OutputField("url", _("Page link")),
    OutputField("created_time", _("Created"), kind="date"),
    OutputField("last_edited_time", _("Last edited"), kind="date"),
)
ROW_SAMPLE = {
    "id": "1f0d872b-594c-80c1-a3e8-0037abcdef01",
    "url": "https://www.notion.so/Fix-login-1f0d872b594c80c1a3e80037abcdef01",
    "created_time": "2026-06-01T09:14:00.000Z",
    "last_edited_time": "2026-06-01T09:14:00.000Z",
}


def _create_request(ctx: Context) -> tuple[sources.Source, dict[str, Any]]:
    source = sources.resolve(ctx, ctx.config.get("database"))
    properties = rows.property_values(ctx, source, People(ctx))
    parent = {"type": "data_source_id", "data_source_id": source.id}
    return source, {"parent": parent, "properties": properties}


def create_database_item(ctx: Context) -> dict[str, Any]:
    _source, body = _create_request(ctx)
    return plain_values(call(ctx, ctx.client().pages.create, **body))


def preview_create_database_item(ctx: Context) -> dict[str, Any]:
    _source, body = _create_request(ctx)
    return rows.request("POST", "/v1/pages", body)


CREATE_DATABASE_ITEM = Action(
    key="create_database_item",
    label=_("Add a row to a database"),
    help=_(
        "Creates a page in a Notion database. After you pick the database, each of its "
        "properties gets a field; leave a field empty to leave the property blank."
    ),
    run=create_database_item,
    preview=preview_create_database_item,
    effect="write",
    fields=(DATABASE_FIELD,),
    fields_provider=schema.provided_fields,
    outputs=ROW_OUTPUTS,
    outputs_provider=schema.provided_outputs,
    sample=ROW_SAMPLE,
)


PAGE_ROW_FIELD = Field(
    "page",
    _("Row"),
    required=True,
    help=_("The database page to change: a link, an id, or the ID from an earlier step."),
)
OPTIONAL_DATABASE = Field(
    "database",
    _("Database"),
    kind="choice",
    dynamic_choices=sources.data_source_choices,
    help=_(
        "The database the row is in. Needed only to list its properties here when the row "
        "comes from an earlier step."
    ),
)


def _update_request(ctx: Context) -> tuple[str, dict[str, Any]]:
    pid = page_id(ctx.config.get("page"))
    source = sources.of_page(ctx, pid)
    properties = rows.property_values(ctx, source, People(ctx))
    if not properties:
        raise IntegrationError(
            _g("There is nothing to change: fill in at least one property."), permanent=True
        )
    return pid, {"properties": properties}


def update_database_item(ctx: Context) -> dict[str, Any]:
    pid, body = _update_request(ctx)
    return plain_values(call(ctx, ctx.client().pages.update, page_id=pid, **body))


def preview_update_database_item(ctx: Context) -> dict[str, Any]:
    pid, body = _update_request(ctx)
    return rows.request("PATCH", f"/v1/pages/{pid}", body)


UPDATE_DATABASE_ITEM = Action(
    key="update_database_item",
    label=_("Update a database row"),
    help=_("Changes the properties you fill in; every other property stays as it is."),
    run=update_database_item,
    preview=preview_update_database_item,
    effect="write",
    fields=(PAGE_ROW_FIELD, OPTIONAL_DATABASE),
    fields_provider=schema.provided_fields,
    outputs=ROW_OUTPUTS,
    outputs_provider=schema.provided_outputs,
    sample=ROW_SAMPLE,
)


MATCH_FIELD = Field(
    "match_property",
    _("Match on"),
    kind="choice",
    required=True,
    dynamic_choices=sources.property_choices,
    depends_on=("database",),
    help=_(
        "The property that identifies a row, such as an email or an order number. A row "
        "whose value is the one filled in below is used instead of adding another."
    ),
)


def _existing(ctx: Context, source: sources.Source, people: People) -> dict[str, Any] | None:
    match = str(ctx.config.get("match_property") or "")
    spec = source.property(match)
    if spec is None:
        raise filters.unknown_property(source, match)
    value = ctx.config.get(schema.config_key(spec["name"], spec), ctx.config.get(match))
    if value is None or value == "" or value == []:
        raise IntegrationError(
            _g("Fill in “%(name)s”: it is the property rows are matched on.")
            % {"name": spec["name"]},
            permanent=True,
        )
    condition = filters.condition(
        source,
        spec["name"],
        "contains" if spec["type"] in filters.LIST_TYPES else "equals",
        value,
        timezone=ctx.timezone or "UTC",
        person=people.id_for,
    )
    answer = call(
        ctx,
        ctx.client().data_sources.query,
        data_source_id=source.id,
        filter=condition,
        sorts=[{"timestamp": "created_time", "direction": "ascending"}],
        page_size=1,
    )
    found = answer.get("results") or []
    return found[0] if found else None


def find_or_create_database_item(ctx: Context) -> dict[str, Any]:
    """Looks first, so a run retried after its create went through finds that row."""
    source = sources.resolve(ctx, ctx.config.get("database"))
    people = People(ctx)
    existing = _existing(ctx, source, people)
    if existing is not None:
        return {**plain_values(existing), "found": True, "created": False}
    properties = rows.property_values(ctx, source, people)
    made = rows.create(ctx, source, properties)
    return {**plain_values(made), "found": False, "created": True}


def preview_find_or_create_database_item(ctx: Context) -> dict[str, Any]:
    """The create it would send, or, when a row matches already, that nothing is sent."""
    source = sources.resolve(ctx, ctx.config.get("database"))
    people = People(ctx)
    existing = _existing(ctx, source, people)
    if existing is not None:
        return {
            "requests": [],
            "message": _g("A row matches already (%(id)s): nothing would be sent.")
            % {"id": existing.get("id") or ""},
        }
    properties = rows.property_values(ctx, source, people)
    parent = {"type": "data_source_id", "data_source_id": source.id}
    return rows.request("POST", "/v1/pages", {"parent": parent, "properties": properties})


FIND_OR_CREATE_DATABASE_ITEM = Action(
    key="find_or_create_database_item",
    label=_("Find or add a database row"),
    help=_(
        "Looks for a row whose “Match on” property has the value filled in; adds the row "
        "only when none has it, so a trigger delivered twice never makes two rows."
    ),
    run=find_or_create_database_item,
    preview=preview_find_or_create_database_item,
    effect="write",
    fields=(DATABASE_FIELD, MATCH_FIELD),
    fields_provider=schema.provided_fields,
    outputs=(
        *ROW_OUTPUTS,
        OutputField("found", _("Found an existing row"), kind="bool"),
        OutputField("created", _("Added a row"), kind="bool"),
    ),
    outputs_provider=schema.provided_outputs,
    sample={**ROW_SAMPLE, "found": False, "created": True},
)
