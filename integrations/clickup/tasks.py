"""ClickUp actions on tasks: create one, comment on one."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from integrations.base import Action, Choice, Context, Field, IntegrationError, OutputField
from integrations.clickup import dates
from integrations.clickup.people import user_ids

PRIORITIES = {"urgent": 1, "high": 2, "normal": 3, "low": 4}

TIMEZONE = Field(
    "timezone",
    _("Time zone"),
    default="UTC",
    help=_("Dates without a time zone are read in this one, for example Asia/Seoul."),
)


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


def _task_request(ctx: Context) -> tuple[str, dict[str, Any]]:
    """The path and body of the create request. Assignees given by email are looked up (one
    read of the Workspace's members), for the preview too: a preview reads, never writes."""
    config = ctx.config
    tz = dates.zone(config.get("timezone"))
    body: dict[str, Any] = {"name": str(config["name"])}
    if config.get("description"):
        body["markdown_description"] = str(config["description"])
    assignees = user_ids(ctx, config.get("assignees"))
    if assignees:
        body["assignees"] = assignees
    for key in ("due_date", "start_date"):
        parsed = dates.parse(config.get(key), tz)
        if parsed is not None:
            body[key], body[f"{key}_time"] = parsed
    level = priority(config.get("priority"))
    if level is not None:
        body["priority"] = level
    if config.get("status"):
        body["status"] = str(config["status"])
    labels = tags(config.get("tags"))
    if labels:
        body["tags"] = labels
    return f"list/{str(config['list']).strip()}/task", body


def _preview(path: str, body: dict[str, Any]) -> dict[str, Any]:
    # The token is sent in the Authorization header, left out here.
    url = f"{settings.CLICKUP_API_URL.rstrip('/')}/{path}"
    return {
        "method": "POST",
        "url": url,
        "headers": {"Content-Type": "application/json"},
        "body": body,
    }


def create_task(ctx: Context) -> dict[str, Any]:
    path, body = _task_request(ctx)
    with ctx.integration.errors():
        task = ctx.client().post(path, body)
    return task_view(task, dates.zone(ctx.config.get("timezone")))


def preview_create_task(ctx: Context) -> dict[str, Any]:
    return _preview(*_task_request(ctx))


TASK_OUTPUTS = (
    OutputField("id", _("Task ID")),
    OutputField("name", _("Task name")),
    OutputField("url", _("Task link")),
    OutputField("status", _("Status")),
    OutputField("due_date", _("Due date"), kind="date"),
)

CREATE_TASK = Action(
    key="create_task",
    label=_("Create a task"),
    help=_("Creates a task in a ClickUp list, assigned and due as you say."),
    run=create_task,
    preview=preview_create_task,
    effect="write",
    fields=(
        Field(
            "list",
            _("List ID"),
            required=True,
            help=_("The list's id: the number after /li/ in the list's link in ClickUp."),
        ),
        Field("name", _("Task name"), required=True),
        Field("description", _("Description"), kind="long_text", help=_("Markdown is kept.")),
        Field(
            "assignees",
            _("Assignees"),
            kind="list",
            help=_("ClickUp user ids or email addresses of the Workspace's members."),
        ),
        Field(
            "due_date",
            _("Due date"),
            kind="date",
            help=_("A date (2026-12-04) or a date and time (2026-12-04T17:00)."),
        ),
        Field("start_date", _("Start date"), kind="date"),
        TIMEZONE,
        Field(
            "priority",
            _("Priority"),
            kind="choice",
            choices=(
                Choice("urgent", _("Urgent")),
                Choice("high", _("High")),
                Choice("normal", _("Normal")),
                Choice("low", _("Low")),
            ),
        ),
        Field("status", _("Status"), help=_("A status of the list; empty for its first.")),
        Field("tags", _("Tags"), kind="list"),
    ),
    outputs=TASK_OUTPUTS,
    sample={
        "id": "86a1b2c3d",
        "name": "Renew the contract",
        "url": "https://app.clickup.com/t/86a1b2c3d",
        "status": "to do",
        "due_date": "2026-12-04T17:00:00+09:00",
    },
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
    return _preview(*_comment_request(ctx))


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
            help=_("A ClickUp user id or a member's email address."),
        ),
    ),
    outputs=(OutputField("id", _("Comment ID")),),
    sample={"id": "90123456"},
)
