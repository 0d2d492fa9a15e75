"""ClickUp actions on tasks: create one, comment on one; the task fields other task
actions share."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from integrations.base import Action, Choice, Context, Field, IntegrationError, OutputField
from integrations.clickup import custom_fields, dates, previews
from integrations.clickup.hierarchy import STATUS, picker_fields
from integrations.clickup.people import assignees_field, member_choices, user_ids

PRIORITIES = {"urgent": 1, "high": 2, "normal": 3, "low": 4}


def task_view(task: dict[str, Any], tz) -> dict[str, Any]:
    status = task.get("status") or {}
    return {
        "id": str(task.get("id") or ""),
        "name": task.get("name") or "",
        "url": task.get("url") or "",
        "status": status.get("status") if isinstance(status, dict) else str(status or ""),
        "due_date": dates.iso(task.get("due_date"), tz),
    }


def tags(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = value.split(",")
    return [str(t).strip() for t in value if str(t).strip()]


def priority(value: Any) -> int | None:
    if value in (None, ""):
        return None
    text = str(value).strip().lower()
    if text in PRIORITIES:
        return PRIORITIES[text]
    if text in {"1", "2", "3", "4"}:
        return int(text)
    raise IntegrationError(
        gettext("“%(value)s” is not a ClickUp priority: use urgent, high, normal or low.")
        % {"value": value},
        permanent=True,
    )


def list_id(ctx: Context) -> str:
    found = str(ctx.config.get("list") or "").strip()
    if not found:
        raise IntegrationError(gettext("Choose a ClickUp list for this step."), permanent=True)
    return found


def common_body(ctx: Context) -> dict[str, Any]:
    """What create and update send alike, for the fields given: description, dates (read in
    the recipe's time zone; ``*_time`` false for a date alone), priority and status."""
    config = ctx.config
    tz = dates.step_zone(ctx)
    body: dict[str, Any] = {}
    if config.get("name") not in (None, ""):
        body["name"] = str(config["name"])
    if config.get("description"):
        body["markdown_description"] = str(config["description"])
    for key in ("due_date", "start_date"):
        parsed = dates.parse(config.get(key), tz)
        if parsed is not None:
            body[key], body[f"{key}_time"] = parsed
    level = priority(config.get("priority"))
    if level is not None:
        body["priority"] = level
    if config.get("status"):
        body["status"] = str(config["status"])
    return body


def task_request(ctx: Context) -> tuple[str, dict[str, Any]]:
    """The path and body of Create Task. Assignees given by email and custom fields are
    looked up (one read each, only when used), for the preview too: a preview reads, never
    writes."""
    config = ctx.config
    target = list_id(ctx)
    dates.step_zone(ctx)  # an unknown time zone is refused before anything is read
    body = {"name": str(config["name"]), **common_body(ctx)}
    assignees = user_ids(ctx, config.get("assignees"))
    if assignees:
        body["assignees"] = assignees
    labels = tags(config.get("tags"))
    if labels:
        body["tags"] = labels
    fields = custom_fields.for_create(ctx, target)
    if fields:
        body["custom_fields"] = fields
    return f"list/{target}/task", body


def create_task(ctx: Context) -> dict[str, Any]:
    path, body = task_request(ctx)
    with ctx.integration.errors():
        task = ctx.client().post(path, body)
    return task_view(task, dates.step_zone(ctx))


def preview_create_task(ctx: Context) -> dict[str, Any]:
    return previews.request("POST", *task_request(ctx))


def list_custom_fields(ctx: Context) -> list[Field]:
    """The chosen list's custom fields, as fields of the step (none until a list is chosen)."""
    chosen = custom_fields.literal(ctx.config.get("list"))
    return custom_fields.as_fields(custom_fields.list_fields(ctx, chosen)) if chosen else []


TASK_OUTPUTS = (
    OutputField("id", _("Task ID")),
    OutputField("name", _("Task name")),
    OutputField("url", _("Task link")),
    OutputField("status", _("Status")),
    OutputField("due_date", _("Due date"), kind="date"),
)
TASK_SAMPLE = {
    "id": "86a1b2c3d",
    "name": "Renew the contract",
    "url": "https://app.clickup.com/t/86a1b2c3d",
    "status": "to do",
    "due_date": "2026-12-04T17:00:00+09:00",
}
DATE_HELP = _(
    "A date (2026-12-04) or a date and time (2026-12-04T17:00), in the recipe's time zone."
)
PRIORITY = Field(
    "priority",
    _("Priority"),
    kind="choice",
    choices=(
        Choice("urgent", _("Urgent")),
        Choice("high", _("High")),
        Choice("normal", _("Normal")),
        Choice("low", _("Low")),
    ),
)


def task_fields(*, name_required: bool) -> tuple[Field, ...]:
    """The task's own fields, shared by create and find-or-create."""
    return (
        Field("name", _("Task name"), required=name_required),
        Field("description", _("Description"), kind="long_text", help=_("Markdown is kept.")),
        assignees_field(),
        Field("due_date", _("Due date"), kind="date", help=DATE_HELP),
        Field("start_date", _("Start date"), kind="date", help=DATE_HELP),
        PRIORITY,
        STATUS,
        Field("tags", _("Tags"), kind="list"),
    )


LIST_HELP = _("The list the task goes in.")

CREATE_TASK = Action(
    key="create_task",
    label=_("Create a task"),
    help=_("Creates a task in a ClickUp list, assigned and due as you say."),
    run=create_task,
    preview=preview_create_task,
    effect="write",
    fields=picker_fields(LIST_HELP) + task_fields(name_required=True),
    fields_provider=list_custom_fields,
    outputs=TASK_OUTPUTS,
    sample=TASK_SAMPLE,
)


def _comment_request(ctx: Context) -> tuple[str, dict[str, Any]]:
    config = ctx.config
    body: dict[str, Any] = {"comment_text": str(config["text"]), "notify_all": False}
    assignee = user_ids(ctx, config.get("assignee"))
    if assignee:
        body["assignee"] = assignee[0]
    return f"task/{str(config['task']).strip()}/comment", body


def add_comment(ctx: Context) -> dict[str, Any]:
    path, body = _comment_request(ctx)
    with ctx.integration.errors():
        answer = ctx.client().post(path, body)
    return {"id": str(answer.get("id") or "")}


def preview_add_comment(ctx: Context) -> dict[str, Any]:
    return previews.request("POST", *_comment_request(ctx))


ADD_COMMENT = Action(
    key="add_comment",
    label=_("Add a comment to a task"),
    help=_("Comments on a ClickUp task, optionally assigning the comment to someone."),
    run=add_comment,
    preview=preview_add_comment,
    effect="write",
    fields=(
        Field("task", _("Task ID"), required=True, help=_("For example the “id” of a task step.")),
        Field("text", _("Comment"), kind="long_text", required=True),
        Field(
            "assignee",
            _("Assign the comment to"),
            kind="choice",
            help=_("A member, or a member's email address."),
            dynamic_choices=member_choices,
        ),
    ),
    outputs=(OutputField("id", _("Comment ID")),),
    sample={"id": "90123456"},
)
