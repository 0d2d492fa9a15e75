"""Find a task in a ClickUp list, or create it when none matches — so a trigger delivered
twice never makes two tasks.

A task matches on its name (the same words, whatever the case and surrounding spaces) or on
the value of one of the list's custom fields. Names are compared page by page (ClickUp has no
name filter); a custom field is filtered by ClickUp itself (``custom_fields`` on Get Tasks).
Closed tasks count: a task done already is still the one the trigger meant.
"""

from __future__ import annotations

import json
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from integrations.base import (
    Action,
    Choice,
    ChoicePage,
    Context,
    Field,
    IntegrationError,
    OutputField,
)
from integrations.clickup import custom_fields, dates, previews
from integrations.clickup.hierarchy import picker_fields
from integrations.clickup.paging import paged
from integrations.clickup.tasks import (
    TASK_OUTPUTS,
    TASK_SAMPLE,
    list_custom_fields,
    list_id,
    task_fields,
    task_request,
    task_view,
)

# Get Tasks answers 100 a page; a name is looked for in the first 5,000 tasks of the list.
PAGE_SIZE = 100
MAX_PAGES = 50
# Custom field types whose value identifies a task (an order number, an email, a link).
MATCHABLE = {"short_text", "text", "number", "email", "url", "phone"}


def match_choices(ctx: Context, search: str, page: str | None) -> ChoicePage:
    chosen = custom_fields.literal(ctx.config.get("list"))
    choices = [Choice("name", str(_("Task name")))]
    for found in custom_fields.list_fields(ctx, chosen) if chosen else []:
        if found.get("type") in MATCHABLE:
            choices.append(Choice(custom_fields.key_of(str(found["id"])), str(found["name"])))
    return paged(choices, search, page)


def lookup(ctx: Context) -> tuple[str, dict[str, Any], str | None]:
    """(path, query, name to compare) of the search for a matching task."""
    config = ctx.config
    target = list_id(ctx)
    match = str(config.get("match_on") or "name").strip()
    query: dict[str, Any] = {"include_closed": "true", "subtasks": "true"}
    if match == "name":
        return f"list/{target}/task", query, str(config.get("name") or "").strip()
    value = config.get(match)
    if not match.startswith(custom_fields.PREFIX) or value in (None, ""):
        raise IntegrationError(
            gettext(
                "Give the custom field the task is matched on a value, or match on the task name."
            ),
            permanent=True,
        )
    rule = {"field_id": match.removeprefix(custom_fields.PREFIX), "operator": "=", "value": value}
    query["custom_fields"] = json.dumps([rule])
    return f"list/{target}/task", query, None


def find(ctx: Context) -> dict[str, Any] | None:
    path, query, name = lookup(ctx)
    client = ctx.client()
    with ctx.integration.errors():
        for page in range(MAX_PAGES):
            answer = client.get(path, page=page, **query)
            batch = answer.get("tasks") or []
            for task in batch:
                if (
                    name is None
                    or str(task.get("name") or "").strip().casefold() == name.casefold()
                ):
                    return task
            if not batch or answer.get("last_page") or len(batch) < PAGE_SIZE:
                return None
    return None


def find_or_create_task(ctx: Context) -> dict[str, Any]:
    tz = dates.step_zone(ctx)
    found = find(ctx)
    if found is not None:
        return {**task_view(found, tz), "outcome": "found", "created": False}
    path, body = task_request(ctx)
    with ctx.integration.errors():
        task = ctx.client().post(path, body)
    return {**task_view(task, tz), "outcome": "created", "created": True}


def preview_find_or_create_task(ctx: Context) -> dict[str, Any]:
    """The search, then the task it creates when nothing matches."""
    path, query, _name = lookup(ctx)
    search = previews.request("GET", path, None)
    search["query"] = {"page": 0, **query}
    create = previews.request("POST", *task_request(ctx))
    return {**create, "requests": [search, create]}


MATCH_ON = Field(
    "match_on",
    _("Match on"),
    kind="choice",
    default="name",
    help=_("The task name, or a custom field of the list that identifies the task."),
    dynamic_choices=match_choices,
    depends_on=("list",),
)

FIND_OR_CREATE_TASK = Action(
    key="find_or_create_task",
    label=_("Find or create a task"),
    help=_(
        "Finds the task in a list with the same name (or the same value of a custom field), "
        "and creates it only when there is none."
    ),
    run=find_or_create_task,
    preview=preview_find_or_create_task,
    effect="write",
    fields=(
        *picker_fields(_("The list to look in, and to create the task in.")),
        MATCH_ON,
        *task_fields(name_required=True),
    ),
    fields_provider=list_custom_fields,
    outputs=(
        *TASK_OUTPUTS,
        OutputField("outcome", _("Found or created")),
        OutputField("created", _("Created"), kind="bool"),
    ),
    sample={**TASK_SAMPLE, "outcome": "created", "created": True},
)
