"""Find rows of a Notion database: filter rows on its properties, a sort, a limit; pages
through Notion's ``start_cursor`` until the limit is reached or the rows run out."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from integrations.base import Action, Choice, Context, Field, IntegrationError, OutputField
from integrations.notion import filters, schema, sources
from integrations.notion.calls import call
from integrations.notion.database import DATABASE_FIELD, ROW_OUTPUTS, ROW_SAMPLE
from integrations.notion.people import People
from integrations.notion.values import plain_values

PAGE_SIZE = 100
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

PROPERTY_SUB_FIELD = Field(
    "property",
    _("Property"),
    kind="choice",
    required=True,
    dynamic_choices=sources.property_choices,
    depends_on=("database",),
)
FILTERS_FIELD = Field(
    "filters",
    _("Only rows where"),
    kind="list",
    help=_(
        "Each row is one condition, and a row must meet all of them. Dates are read in the "
        "recipe's time zone; people may be given by email."
    ),
    row=(
        PROPERTY_SUB_FIELD,
        Field(
            "operator",
            _("Condition"),
            kind="choice",
            default="equals",
            choices=filters.OPERATOR_CHOICES,
            accepts_references=False,
        ),
        Field("value", _("Value"), help=_("Leave empty for “is empty” and “is not empty”.")),
    ),
)
SORT_FIELD = Field(
    "sort",
    _("Sort by"),
    kind="list",
    help=_("Oldest first when empty."),
    row=(
        PROPERTY_SUB_FIELD,
        Field(
            "direction",
            _("Order"),
            kind="choice",
            default="ascending",
            choices=(
                Choice("ascending", _("Ascending")),
                Choice("descending", _("Descending")),
            ),
        ),
    ),
)
LIMIT_FIELD = Field(
    "limit",
    _("At most"),
    kind="number",
    default=DEFAULT_LIMIT,
    help=_("How many rows to return, up to 1,000."),
)


def _limit(value: Any) -> int:
    if value is None or value == "":
        return DEFAULT_LIMIT
    try:
        limit = int(float(value))
    except (TypeError, ValueError):
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        raise IntegrationError(
            _g("“At most” takes a whole number from 1 to 1,000."), permanent=True
        )
    return limit


def query_body(ctx: Context, source: sources.Source) -> dict[str, Any]:
    body: dict[str, Any] = {}
    condition = filters.combined(
        source,
        ctx.config.get("filters"),
        timezone=ctx.timezone or "UTC",
        person=People(ctx).id_for,
    )
    if condition:
        body["filter"] = condition
    body["sorts"] = filters.sorts(source, ctx.config.get("sort")) or [
        {"timestamp": "created_time", "direction": "ascending"}
    ]
    return body


def find_database_items(ctx: Context) -> dict[str, Any]:
    source = sources.resolve(ctx, ctx.config.get("database"))
    limit = _limit(ctx.config.get("limit"))
    body = query_body(ctx, source)
    client, items, cursor = ctx.client(), [], None
    while len(items) < limit:
        params = {**body, "page_size": min(PAGE_SIZE, limit - len(items))}
        if cursor:
            params["start_cursor"] = cursor
        answer = call(ctx, client.data_sources.query, data_source_id=source.id, **params)
        items += [plain_values(page) for page in answer.get("results") or []]
        cursor = answer.get("next_cursor") if answer.get("has_more") else None
        if not cursor:
            break
    return {"items": items[:limit], "count": len(items[:limit])}


def item_outputs(ctx: Context) -> tuple[OutputField, ...]:
    found = schema.source_of_step(ctx)
    if found is None:
        return ()
    children = ROW_OUTPUTS + tuple(
        o for o in schema.outputs_of(found) if o.key not in {r.key for r in ROW_OUTPUTS}
    )
    return (OutputField("items", _("Rows"), kind="list", children=children),)


FIND_DATABASE_ITEMS = Action(
    key="find_database_items",
    label=_("Find database rows"),
    help=_(
        "Lists the rows of a database that meet the conditions, each with its properties "
        "by name, its link and its times."
    ),
    run=find_database_items,
    effect="read",
    fields=(DATABASE_FIELD, FILTERS_FIELD, SORT_FIELD, LIMIT_FIELD),
    outputs=(
        OutputField("items", _("Rows"), kind="list", children=ROW_OUTPUTS, open=True),
        OutputField("count", _("How many"), kind="number"),
    ),
    outputs_provider=item_outputs,
    sample={"items": [ROW_SAMPLE], "count": 1},
)
