"""Finding ClickUp tasks across a Workspace: due today, overdue, this week or between two
dates in the recipe's time zone, by status and assignee, every result page read."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from integrations.base import Action, Choice, Context, Field, OutputField
from integrations.clickup import dates
from integrations.clickup.hierarchy import workspace_list_choices
from integrations.clickup.people import WORKSPACE, assignees_field, user_ids
from integrations.clickup.tasks import tags, task_view

# Filtered Team Tasks answers 100 tasks a page; this bounds one step to 10,000 tasks.
PAGE_SIZE = 100
MAX_PAGES = 100


def _assignees(task: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {
            "id": str(a.get("id") or ""),
            "username": a.get("username") or "",
            "email": a.get("email") or "",
        }
        for a in task.get("assignees") or []
    ]


def filters(ctx: Context) -> dict[str, Any]:
    """The query of Get Filtered Team Tasks for the step's config (without ``page``)."""
    config = ctx.config
    tz = dates.step_zone(ctx)
    params: dict[str, Any] = {"include_closed": "true" if config.get("include_closed") else "false"}
    if config.get("list"):
        params["list_ids[]"] = [str(config["list"]).strip()]
    due = str(config.get("due") or "any")
    if due == "range":
        params.update(dates.range_window(config.get("due_from"), config.get("due_to"), tz))
    else:
        params.update(dates.due_window(due, tz))
    statuses = tags(config.get("statuses"))
    if statuses:
        params["statuses[]"] = statuses
    assignees = user_ids(ctx, config.get("assignees"))
    if assignees:
        params["assignees[]"] = [str(a) for a in assignees]
    return params


def find_tasks(ctx: Context) -> dict[str, Any]:
    params = filters(ctx)
    tz = dates.step_zone(ctx)
    team_id = str(ctx.config["workspace"]).strip()
    client = ctx.client()
    found: list[dict[str, Any]] = []
    with ctx.integration.errors():
        for page in range(MAX_PAGES):
            answer = client.get(f"team/{team_id}/task", page=page, **params)
            batch = answer.get("tasks") or []
            found += [{**task_view(t, tz), "assignees": _assignees(t)} for t in batch]
            # ``last_page`` where ClickUp sends it; else a short page is the last one.
            if not batch or answer.get("last_page") or len(batch) < PAGE_SIZE:
                break
    return {"tasks": found, "count": len(found)}


RANGE_HELP = _("With “Between two dates”: a date, or a date and time, in the recipe's time zone.")

FIND_TASKS = Action(
    key="find_tasks",
    label=_("Find tasks"),
    help=_("Finds the tasks of a Workspace due today, overdue or this week, in your time zone."),
    run=find_tasks,
    effect="read",
    fields=(
        WORKSPACE,
        Field(
            "list",
            _("List"),
            kind="choice",
            help=_("Only this list's tasks; empty for the whole Workspace."),
            dynamic_choices=workspace_list_choices,
            depends_on=("workspace",),
        ),
        Field(
            "due",
            _("Due"),
            kind="choice",
            default="any",
            choices=(
                Choice("today", _("Today")),
                Choice("overdue", _("Overdue")),
                Choice("this_week", _("This week")),
                Choice("range", _("Between two dates")),
                Choice("any", _("Any time")),
            ),
        ),
        Field("due_from", _("Due from"), kind="date", help=RANGE_HELP),
        Field("due_to", _("Due until"), kind="date", help=RANGE_HELP),
        Field(
            "timezone",
            _("Time zone"),
            help=_(
                "Leave empty to use the recipe's time zone; or a name like Asia/Seoul for "
                "this step alone."
            ),
        ),
        Field("statuses", _("Statuses"), kind="list"),
        assignees_field(),
        Field("include_closed", _("Include closed tasks"), kind="bool", default=False),
    ),
    outputs=(
        OutputField(
            "tasks",
            _("Tasks"),
            kind="list",
            children=(
                OutputField("id", _("Task ID")),
                OutputField("name", _("Task name")),
                OutputField("url", _("Task link")),
                OutputField("status", _("Status")),
                OutputField("due_date", _("Due date"), kind="date"),
                OutputField("assignees", _("Assignees"), kind="list"),
            ),
        ),
        OutputField("count", _("Number of tasks"), kind="number"),
    ),
    sample={
        "tasks": [
            {
                "id": "86a1b2c3d",
                "name": "Renew the contract",
                "url": "https://app.clickup.com/t/86a1b2c3d",
                "status": "to do",
                "due_date": "2026-12-04T17:00:00+09:00",
                "assignees": [
                    {"id": "81234567", "username": "Ada Lovelace", "email": "ada@acme.test"}
                ],
            }
        ],
        "count": 1,
    },
)
