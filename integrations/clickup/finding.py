"""Finding ClickUp tasks across a Workspace: due today, overdue or this week in a time zone."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from integrations.base import Action, Choice, Context, Field, OutputField
from integrations.clickup import dates
from integrations.clickup.people import WORKSPACE, user_ids
from integrations.clickup.tasks import TIMEZONE, tags, task_view

# Filtered Team Tasks answers 100 tasks a page; this bounds one step to 10,000 tasks.
PAGE_SIZE = 100
MAX_PAGES = 100


def find_tasks(ctx: Context) -> dict[str, Any]:
    config = ctx.config
    tz = dates.zone(config.get("timezone"))
    params: dict[str, Any] = {"include_closed": "true" if config.get("include_closed") else "false"}
    if config.get("list"):
        params["list_ids[]"] = [str(config["list"]).strip()]
    params.update(dates.due_window(str(config.get("due") or "any"), tz))
    statuses = tags(config.get("statuses"))
    if statuses:
        params["statuses[]"] = statuses
    assignees = user_ids(ctx, config.get("assignees"))
    if assignees:
        params["assignees[]"] = [str(a) for a in assignees]
    team_id = str(config["workspace"]).strip()
    client = ctx.client()
    found: list[dict[str, Any]] = []
    with ctx.integration.errors():
        for page in range(MAX_PAGES):
            answer = client.get(f"team/{team_id}/task", page=page, **params)
            batch = answer.get("tasks") or []
            for task in batch:
                view = task_view(task, tz)
                view["assignees"] = [
                    {
                        "id": str(a.get("id") or ""),
                        "username": a.get("username") or "",
                        "email": a.get("email") or "",
                    }
                    for a in task.get("assignees") or []
                ]
                found.append(view)
            # ``last_page`` where ClickUp sends it; else a short page is the last one.
            if not batch or answer.get("last_page") or len(batch) < PAGE_SIZE:
                break
    return {"tasks": found, "count": len(found)}


FIND_TASKS = Action(
    key="find_tasks",
    label=_("Find tasks"),
    help=_("Finds the tasks of a Workspace due today, overdue or this week, in your time zone."),
    run=find_tasks,
    effect="read",
    fields=(
        WORKSPACE,
        Field("list", _("List ID"), help=_("Only this list's tasks; empty for the Workspace.")),
        Field(
            "due",
            _("Due"),
            kind="choice",
            default="any",
            choices=(
                Choice("today", _("Today")),
                Choice("overdue", _("Overdue")),
                Choice("this_week", _("This week")),
                Choice("any", _("Any time")),
            ),
        ),
        TIMEZONE,
        Field("statuses", _("Statuses"), kind="list"),
        Field(
            "assignees",
            _("Assignees"),
            kind="list",
            help=_("ClickUp user ids or email addresses of the Workspace's members."),
        ),
        Field("include_closed", _("Include closed tasks"), kind="bool", default=False),
    ),
    outputs=(
        OutputField("tasks", _("Tasks"), kind="list"),
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
