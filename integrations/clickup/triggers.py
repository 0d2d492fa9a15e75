"""ClickUp triggers: a new task, a task changed (optionally: moved to a status).

Instant: on publish the hub registers a ClickUp webhook for the Workspace, space or list
(``integrations.clickup.webhooks``); each signed delivery starts a run whose first act fetches
the task (``resolve``), so the trigger's data is the task as it is now, not as the delivery
described it. A deployment ClickUp cannot reach (``HUB_BASE_URL`` on a loopback or private
address) polls instead: the Workspace's tasks filtered by ``date_created_gt`` /
``date_updated_gt``, oldest first, the newest time seen as the cursor.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from django.utils.translation import gettext_lazy as _

from integrations.base import (
    Context,
    Field,
    OutputField,
    PollItem,
    PollRequest,
    PollResult,
    Trigger,
)
from integrations.clickup import dates
from integrations.clickup.hierarchy import space_choices, workspace_list_choices
from integrations.clickup.people import WORKSPACE
from integrations.clickup.webhooks import status_name

MAX_PAGES = 10
TEST_ITEMS = 3

_HELP = _(
    "Starts within seconds: the hub registers a ClickUp webhook when the recipe is published. "
    "A hub without a public address (HUB_BASE_URL on this machine or a private network) "
    "cannot be reached by ClickUp, so it checks for changes every poll interval instead."
)

SCOPE_FIELDS = (
    WORKSPACE,
    Field(
        "space",
        _("Space"),
        kind="choice",
        help=_("Only tasks in this space; the whole Workspace when left empty."),
        dynamic_choices=space_choices,
        depends_on=("workspace",),
    ),
    Field(
        "list",
        _("List"),
        kind="choice",
        help=_("Only tasks in this list; it narrows the space when both are given."),
        dynamic_choices=workspace_list_choices,
        depends_on=("workspace",),
    ),
)

TASK_OUTPUTS = (
    OutputField("id", _("Task ID")),
    OutputField("name", _("Name")),
    OutputField("url", _("Link")),
    OutputField("status", _("Status")),
    OutputField("description", _("Description"), kind="long_text"),
    OutputField("list_id", _("List ID")),
    OutputField("list_name", _("List")),
    OutputField("space_id", _("Space ID")),
    OutputField("priority", _("Priority")),
    OutputField("due_date", _("Due date"), kind="date"),
    OutputField("date_created", _("Created"), kind="date"),
    OutputField("date_updated", _("Updated"), kind="date"),
    OutputField("creator", _("Created by")),
    OutputField(
        "assignees",
        _("Assignees"),
        kind="list",
        children=(
            OutputField("id", _("User ID")),
            OutputField("username", _("Username")),
            OutputField("email", _("Email address")),
        ),
    ),
    OutputField("tags", _("Tags"), kind="list"),
    OutputField("event", _("ClickUp event")),
    OutputField("changed_field", _("Changed field")),
    OutputField("previous_status", _("Previous status")),
)

TASK_SAMPLE = {
    "id": "86c1a2b3c",
    "name": "Call back Acme about the invoice",
    "url": "https://app.clickup.com/t/86c1a2b3c",
    "status": "in progress",
    "description": "They were charged twice in November.",
    "list_id": "901234",
    "list_name": "Support",
    "space_id": "90110",
    "priority": "high",
    "due_date": "2026-12-04T09:00:00+00:00",
    "date_created": "2026-12-01T08:30:00+00:00",
    "date_updated": "2026-12-01T09:15:00+00:00",
    "creator": "Ada Lovelace",
    "assignees": [{"id": "81234567", "username": "Ada Lovelace", "email": "ada@acme.test"}],
    "tags": ["billing"],
    "event": "taskStatusUpdated",
    "changed_field": "status",
    "previous_status": "to do",
}


def task_data(task: dict[str, Any], event: dict[str, Any] | None = None) -> dict[str, Any]:
    """The task's full current state as the trigger's outputs (times in UTC)."""
    event = event or {}
    listed = task.get("list") or {}
    priority = task.get("priority") or {}
    creator = task.get("creator") or {}
    return {
        "id": str(task.get("id") or ""),
        "name": task.get("name") or "",
        "url": task.get("url") or "",
        "status": status_name(task.get("status")),
        "description": task.get("text_content") or task.get("description") or "",
        "list_id": str(listed.get("id") or ""),
        "list_name": listed.get("name") or "",
        "space_id": str((task.get("space") or {}).get("id") or ""),
        "priority": priority.get("priority") or "" if isinstance(priority, dict) else "",
        "due_date": dates.iso(task.get("due_date"), UTC),
        "date_created": dates.iso(task.get("date_created"), UTC),
        "date_updated": dates.iso(task.get("date_updated"), UTC),
        "creator": creator.get("username") or creator.get("email") or "",
        "assignees": [
            {
                "id": str(a.get("id") or ""),
                "username": a.get("username") or "",
                "email": a.get("email") or "",
            }
            for a in task.get("assignees") or []
        ],
        "tags": [t.get("name") for t in task.get("tags") or [] if t.get("name")],
        "event": event.get("event") or "",
        "changed_field": event.get("changed_field") or "",
        "previous_status": event.get("previous_status") or "",
    }


def resolve(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """As the run starts: the delivered event completed with the task as it is now."""
    task = ctx.client().get(f"task/{data['task_id']}")
    return task_data(task, data)


# -- the polling fallback


def _tasks(
    ctx: Context, field: str, after: int | None, pages: int, *, newest_first: bool = False
) -> list[dict[str, Any]]:
    """The scope's tasks with ``field`` after ``after`` (ms), oldest first (ClickUp's order is
    newest first; ``reverse`` turns it)."""
    config = ctx.config
    params: dict[str, Any] = {
        "order_by": "created" if field == "date_created" else "updated",
        "reverse": "false" if newest_first else "true",
        "include_closed": "true",
        "subtasks": "true",
    }
    if after is not None:
        params[f"{field}_gt"] = after
    if config.get("list"):
        params["list_ids[]"] = str(config["list"])
    elif config.get("space"):
        params["space_ids[]"] = str(config["space"])
    found: list[dict[str, Any]] = []
    client = ctx.client()
    for page in range(pages):
        answer = client.get(f"team/{config['workspace']}/task", page=page, **params)
        found += answer.get("tasks") or []
        if answer.get("last_page", True):
            break
    found.sort(key=lambda t: int(t.get(field) or 0), reverse=newest_first)
    return found


def _poll(field: str, identity, matches_status):
    def poll(ctx: Context, request: PollRequest) -> PollResult:
        if request.mode == "seed":
            # The newest task's own time, not this machine's clock (which may differ from
            # ClickUp's); a scope without tasks has nothing old to skip.
            newest = _tasks(ctx, field, None, 1, newest_first=True)[:1]
            return PollResult([], cursor=int(newest[0][field]) if newest else 0)
        if request.mode == "test":
            recent = _tasks(ctx, field, None, 1)[-TEST_ITEMS:][::-1]
            return PollResult([PollItem(identity(t), task_data(t)) for t in recent], request.cursor)
        # The cursor: every task up to this time (ms) has been handled.
        after = int(request.cursor) if request.cursor is not None else None
        fresh = [t for t in _tasks(ctx, field, after, MAX_PAGES) if identity(t) not in request.seen]
        taken = fresh[: request.limit]
        cursor = int(taken[-1][field]) if taken else request.cursor
        if taken and len(fresh) > len(taken) and int(fresh[len(taken)][field]) == cursor:
            # The batch ends inside one millisecond: the rest of it is read again next time,
            # and those taken now are skipped by their ids.
            cursor -= 1
        items = [PollItem(identity(t), task_data(t)) for t in taken if matches_status(ctx, t)]
        return PollResult(items, cursor=cursor, more=len(fresh) > len(taken))

    return poll


def _any_status(ctx: Context, task: dict[str, Any]) -> bool:
    return True


def _wanted_status(ctx: Context, task: dict[str, Any]) -> bool:
    wanted = status_name(ctx.config.get("status_changed_to"))
    return not wanted or status_name(task.get("status")) == wanted


NEW_TASK = Trigger(
    key="new_task",
    label=_("New task"),
    help=_HELP,
    instant=True,
    poll=_poll("date_created", lambda t: str(t["id"]), _any_status),
    resolve=resolve,
    fields=SCOPE_FIELDS,
    outputs=TASK_OUTPUTS,
    sample={**TASK_SAMPLE, "event": "taskCreated", "changed_field": "", "previous_status": ""},
)

TASK_UPDATED = Trigger(
    key="task_updated",
    label=_("Task changed"),
    help=_HELP,
    instant=True,
    poll=_poll("date_updated", lambda t: f"{t['id']}:{t.get('date_updated')}", _wanted_status),
    resolve=resolve,
    fields=(
        *SCOPE_FIELDS,
        Field(
            "status_changed_to",
            _("Only when moved to status"),
            placeholder="complete",
            help=_("Only when a task moves to this status; any change when left empty."),
        ),
    ),
    outputs=TASK_OUTPUTS,
    sample=TASK_SAMPLE,
)

TRIGGERS = {t.key: t for t in (NEW_TASK, TASK_UPDATED)}
