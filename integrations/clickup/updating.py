"""Updating a ClickUp task: only the fields a step gives are changed.

Update Task takes assignees as ``{"add": [...], "rem": [...]}``, so the step reads the task
once and works out who to add and who to remove for the assignees it names. Custom fields
are not part of Update Task: each is one Set Custom Field Value request.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from integrations.base import Action, Context, Field, IntegrationError
from integrations.clickup import custom_fields, dates, previews
from integrations.clickup.hierarchy import STATUS, workspace_list_choices
from integrations.clickup.people import WORKSPACE, assignees_field, user_ids
from integrations.clickup.tasks import (
    DATE_HELP,
    PRIORITY,
    TASK_OUTPUTS,
    TASK_SAMPLE,
    common_body,
    task_view,
)


def task_id(ctx: Context) -> str:
    found = str(ctx.config.get("task") or "").strip()
    if not found:
        raise IntegrationError(gettext("Say which ClickUp task to change."), permanent=True)
    return found


def read_task(ctx: Context, task: str) -> dict[str, Any]:
    with ctx.integration.errors():
        return ctx.client().get(f"task/{task}")


def update_requests(ctx: Context) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, body) of every request the update sends, in order. Reads the task when
    assignees or custom fields need what it holds now; a preview reads too, never writes."""
    config = ctx.config
    task = task_id(ctx)
    dates.step_zone(ctx)  # an unknown time zone is refused before anything is read
    body = common_body(ctx)
    values = custom_fields.given(config)
    wants_people = config.get("assignees") not in (None, "", [])
    current = read_task(ctx, task) if wants_people or values else None
    if wants_people:
        wanted = user_ids(ctx, config.get("assignees"))
        there = [int(a["id"]) for a in current.get("assignees") or []]
        change = {
            "add": [u for u in wanted if u not in there],
            "rem": [u for u in there if u not in wanted],
        }
        if change["add"] or change["rem"]:
            body["assignees"] = change
    requests: list[tuple[str, str, dict[str, Any]]] = []
    if body:
        requests.append(("PUT", f"task/{task}", body))
    if values:
        in_list = custom_fields.literal(config.get("list")) or str(current["list"]["id"])
        for definition in custom_fields.resolve(ctx, in_list, values):
            value = custom_fields.value_of(
                ctx, definition, values[str(definition["id"])], task=current
            )
            requests.append(("POST", f"task/{task}/field/{definition['id']}", value))
    if not requests and not wants_people:
        raise IntegrationError(
            gettext("Nothing to change: give at least one of the task's fields a value."),
            permanent=True,
        )
    return requests


def update_task(ctx: Context) -> dict[str, Any]:
    requests = update_requests(ctx)
    client = ctx.client()
    answer: dict[str, Any] | None = None
    with ctx.integration.errors():
        for method, path, body in requests:
            sent = client.request(method, path, json=body)
            if method == "PUT":
                answer = sent
        if answer is None or any(method == "POST" for method, _p, _b in requests):
            # Custom field values are not in Update Task's answer: read the task as it is now.
            answer = client.get(f"task/{task_id(ctx)}")
    return task_view(answer, dates.step_zone(ctx))


def preview_update_task(ctx: Context) -> dict[str, Any]:
    requests = [previews.request(m, p, b) for m, p, b in update_requests(ctx)]
    if not requests:
        # The assignees named are the task's already: only the task is read, nothing sent.
        return {**previews.request("GET", f"task/{task_id(ctx)}", None), "requests": []}
    return previews.several(requests)


def update_custom_fields(ctx: Context) -> list[Field]:
    """The custom fields of the list chosen, or of the task's own list when the task is an
    id typed into the step (one read of the task)."""
    chosen = custom_fields.literal(ctx.config.get("list"))
    task = custom_fields.literal(ctx.config.get("task"))
    if not chosen and task:
        chosen = str((read_task(ctx, task).get("list") or {}).get("id") or "")
    return custom_fields.as_fields(custom_fields.list_fields(ctx, chosen)) if chosen else []


UPDATE_TASK = Action(
    key="update_task",
    label=_("Update a task"),
    help=_("Changes the fields you give of a ClickUp task; the others stay as they are."),
    run=update_task,
    preview=preview_update_task,
    effect="write",
    fields=(
        Field("task", _("Task ID"), required=True, help=_("For example the “id” of a task step.")),
        Field(
            WORKSPACE.key,
            WORKSPACE.label,
            kind="choice",
            help=_("Optional: narrows the list picker below."),
            dynamic_choices=WORKSPACE.dynamic_choices,
        ),
        Field(
            "list",
            _("List"),
            kind="choice",
            help=_("Optional: the task's list, to pick its statuses and custom fields."),
            dynamic_choices=workspace_list_choices,
            depends_on=("workspace",),
        ),
        Field("name", _("Task name")),
        Field("description", _("Description"), kind="long_text", help=_("Markdown is kept.")),
        assignees_field(
            _(
                "The task's assignees become these people (members or email addresses): "
                "others are taken off. Empty leaves them as they are."
            )
        ),
        Field("due_date", _("Due date"), kind="date", help=DATE_HELP),
        Field("start_date", _("Start date"), kind="date", help=DATE_HELP),
        PRIORITY,
        STATUS,
    ),
    fields_provider=update_custom_fields,
    outputs=TASK_OUTPUTS,
    sample=TASK_SAMPLE,
)
