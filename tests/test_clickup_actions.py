"""The ClickUp catalogue through the hub's ClickUp client against the ClickUp fake: each
action's success, assignees found by email, dates read in the team's time zone, a search
paging through more than one page, and errors in the words a member sees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from integrations import registry
from integrations.base import Context, IntegrationError
from integrations.clickup import people
from tests.fakes.clickup import FakeClickUp

SEOUL = ZoneInfo("Asia/Seoul")


@pytest.fixture
def clickup(settings):
    with FakeClickUp() as fake:
        settings.CLICKUP_API_URL = fake.base_url
        space = fake.add_space("Operations")
        fake.list_id = fake.add_list("Contracts", space_id=space)
        fake.grace = fake.add_member("grace@acme.test", "Grace Hopper")
        yield fake


def context(fake: FakeClickUp, token: str | None = None, **config) -> Context:
    token = token or fake.issue_token()
    connection = SimpleNamespace(pk=1, label="Acme ClickUp", fresh_token=lambda: token)
    return Context(
        workspace_id=1, config=config, connection=connection, integration=registry.get("clickup")
    )


def run(fake: FakeClickUp, key: str, token: str | None = None, **config):
    ctx = context(fake, token, **config)
    return ctx.integration.action(key).run(ctx)


def fails(fake: FakeClickUp, key: str, token: str | None = None, **config) -> IntegrationError:
    with pytest.raises(IntegrationError) as caught:
        run(fake, key, token, **config)
    return caught.value


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


# -- find_member_by_email and the Workspace picker


def test_find_member_by_email_in_a_workspace(clickup):
    out = run(clickup, "find_member_by_email", workspace=clickup.team_id, email=" Grace@Acme.test ")
    assert out == {"id": str(clickup.grace), "username": "Grace Hopper", "email": "grace@acme.test"}


def test_find_member_by_email_nobody_says_so(clickup):
    error = fails(clickup, "find_member_by_email", workspace=clickup.team_id, email="x@acme.test")
    assert error.permanent
    assert "x@acme.test" in error.message and "invite" in error.message


def test_workspace_picker_lists_only_authorised_workspaces(clickup):
    other = clickup.add_team("Other Co")
    token = clickup.issue_token(teams=[clickup.team_id])
    page = people.workspace_choices(context(clickup, token), "", None)
    assert [(c.value, c.label) for c in page.choices] == [(clickup.team_id, "Acme")]
    assert other not in [c.value for c in page.choices]


def test_a_workspace_not_authorised_says_to_reconnect_and_tick_it(clickup):
    other = clickup.add_team("Other Co")
    token = clickup.issue_token(teams=[clickup.team_id])
    error = fails(clickup, "find_tasks", token, workspace=other, due="any")
    assert error.permanent and not error.reauth
    assert error.message == (
        "This ClickUp Workspace is not authorised for Toolstack — reconnect ClickUp and tick it."
    )
    assert clickup.calls("team.tasks")[-1].status == 401


# -- create_task


def test_create_task_with_assignee_by_email_and_dates_in_seoul(clickup):
    out = run(
        clickup,
        "create_task",
        list=clickup.list_id,
        name="Renew the contract",
        description="**Before** Friday",
        assignees=["grace@acme.test", str(clickup.user["id"])],
        due_date="2026-12-04T17:00",
        start_date="2026-12-01",
        timezone="Asia/Seoul",
        priority="high",
        status="in progress",
        tags=["legal"],
    )
    [call] = clickup.calls("task.create")
    body = call.body
    assert body["assignees"] == [clickup.grace, clickup.user["id"]]
    assert body["markdown_description"] == "**Before** Friday"
    # 17:00 in Seoul is 08:00 UTC; a date alone is the start of that day in Seoul.
    assert body["due_date"] == ms(datetime(2026, 12, 4, 8, 0, tzinfo=UTC))
    assert body["due_date_time"] is True
    assert body["start_date"] == ms(datetime(2026, 11, 30, 15, 0, tzinfo=UTC))
    assert body["start_date_time"] is False
    assert body["priority"] == 2 and body["status"] == "in progress" and body["tags"] == ["legal"]
    assert out["name"] == "Renew the contract" and out["status"] == "in progress"
    assert out["due_date"] == "2026-12-04T17:00:00+09:00"
    assert out["url"] == f"https://app.clickup.com/t/{out['id']}"
    assert [a["email"] for a in clickup.tasks[out["id"]]["assignees"]] == [
        "grace@acme.test",
        "ada@acme.test",
    ]


def test_create_task_minimal_in_utc(clickup):
    out = run(clickup, "create_task", list=clickup.list_id, name="Call back", due_date="2026-12-04")
    body = clickup.calls("task.create")[0].body
    assert body == {
        "name": "Call back",
        "due_date": ms(datetime(2026, 12, 4, tzinfo=UTC)),
        "due_date_time": False,
    }
    assert out["due_date"] == "2026-12-04T00:00:00+00:00" and out["status"] == "to do"
    assert clickup.calls("team") == []  # no member lookup without an email address


def test_create_task_assignee_email_not_in_the_workspace(clickup):
    error = fails(
        clickup, "create_task", list=clickup.list_id, name="x", assignees=["nobody@acme.test"]
    )
    assert error.permanent and "nobody@acme.test" in error.message
    assert clickup.calls("task.create") == []


def test_create_task_unknown_status_says_to_pick_one_of_the_lists(clickup):
    error = fails(clickup, "create_task", list=clickup.list_id, name="x", status="shipped")
    assert error.permanent
    assert error.message == (
        "The ClickUp list has no such status — pick one of the list's own statuses, or leave "
        "the status empty for the list's first."
    )
    assert clickup.calls("task.create")[-1].status == 400


def test_an_assignee_id_outside_the_workspace_says_to_pick_a_member(clickup):
    error = fails(clickup, "create_task", list=clickup.list_id, name="x", assignees=["4242"])
    assert error.permanent
    assert error.message.startswith("An assignee is not a member of this ClickUp Workspace")
    assert clickup.calls("task.create")[-1].status == 400


def test_clickup_failing_is_retried(clickup):
    clickup.fail_next("task.create", status=502)
    error = fails(clickup, "create_task", list=clickup.list_id, name="x")
    assert error.retryable and error.message == "ClickUp had a problem; trying again shortly."


def test_create_task_rate_limited_waits_until_the_reset(clickup):
    clickup.rate_limit("task.create", retry_after=7)
    error = fails(clickup, "create_task", list=clickup.list_id, name="x")
    assert error.retryable and error.retry_after is not None
    assert 5 <= error.retry_after <= 7
    assert clickup.calls("task.create")[-1].status == 429


def test_create_task_with_a_revoked_token_asks_to_reconnect(clickup):
    token = clickup.issue_token()
    clickup.revoke_token(token)
    error = fails(clickup, "create_task", token, list=clickup.list_id, name="x")
    assert error.reauth and not error.permanent


# -- add_comment


def test_add_comment_assigned_by_email(clickup):
    task = clickup.add_task(clickup.list_id, "Renew the contract")
    out = run(
        clickup, "add_comment", task=task["id"], text="Please sign", assignee="grace@acme.test"
    )
    [comment] = clickup.comments[task["id"]]
    assert out == {"id": comment["id"]}
    assert comment["comment_text"] == "Please sign"
    assert comment["assignee"] == {"id": clickup.grace}


def test_add_comment_on_a_missing_task_is_permanent(clickup):
    error = fails(clickup, "add_comment", task="nope123", text="Hi")
    assert error.permanent
    assert error.message.startswith("ClickUp cannot find that list or task")


# -- find_tasks


def seoul_day(days: int = 0) -> datetime:
    today = datetime.now(SEOUL).date() + timedelta(days=days)
    return datetime.combine(today, datetime.min.time(), tzinfo=SEOUL)


def test_find_tasks_due_today_in_seoul_pages_through_every_task(clickup):
    start = seoul_day()
    for n in range(150):
        clickup.add_task(clickup.list_id, f"Today {n}", due_date=ms(start + timedelta(minutes=n)))
    late = clickup.add_task(clickup.list_id, "Late tonight", due_date=ms(seoul_day(1)) - 60_000)
    clickup.add_task(clickup.list_id, "Yesterday", due_date=ms(start) - 60_000)
    clickup.add_task(clickup.list_id, "Tomorrow", due_date=ms(seoul_day(1)))
    clickup.add_task(clickup.list_id, "Done", due_date=ms(start), status="complete")
    clickup.add_task(clickup.list_id, "No date")

    out = run(clickup, "find_tasks", workspace=clickup.team_id, due="today", timezone="Asia/Seoul")

    names = {t["name"] for t in out["tasks"]}
    assert out["count"] == 151 == len(names)
    assert "Late tonight" in names and not names & {"Yesterday", "Tomorrow", "Done", "No date"}
    calls = clickup.calls("team.tasks")
    assert [c.query["page"] for c in calls] == [["0"], ["1"]]
    assert calls[0].query["due_date_gt"] == [str(ms(start) - 1)]
    assert calls[0].query["due_date_lt"] == [str(ms(seoul_day(1)))]
    found = next(t for t in out["tasks"] if t["id"] == late["id"])
    assert found["due_date"].endswith("+09:00") and found["due_date"][11:16] == "23:59"


def test_find_tasks_by_assignee_email_in_a_list_with_closed(clickup):
    other = clickup.add_list("Elsewhere", space_id=clickup.spaces[next(iter(clickup.spaces))]["id"])
    mine = clickup.add_task(clickup.list_id, "Mine", assignees=[clickup.grace], status="complete")
    clickup.add_task(clickup.list_id, "Not mine")
    clickup.add_task(other, "Mine elsewhere", assignees=[clickup.grace])
    out = run(
        clickup,
        "find_tasks",
        workspace=clickup.team_id,
        list=clickup.list_id,
        due="any",
        assignees=["grace@acme.test"],
        include_closed=True,
    )
    assert [t["id"] for t in out["tasks"]] == [mine["id"]] and out["count"] == 1
    assert out["tasks"][0]["assignees"] == [
        {"id": str(clickup.grace), "username": "Grace Hopper", "email": "grace@acme.test"}
    ]
    assert out["tasks"][0]["due_date"] is None


def test_find_tasks_overdue_leaves_out_later_ones(clickup):
    now = datetime.now(UTC)
    clickup.add_task(clickup.list_id, "Overdue", due_date=ms(now - timedelta(days=2)))
    clickup.add_task(clickup.list_id, "Later", due_date=ms(now + timedelta(days=2)))
    out = run(clickup, "find_tasks", workspace=clickup.team_id, due="overdue")
    assert [t["name"] for t in out["tasks"]] == ["Overdue"]


def test_find_tasks_rate_limited(clickup):
    clickup.rate_limit("team.tasks", retry_after=7)
    error = fails(clickup, "find_tasks", workspace=clickup.team_id, due="today")
    assert error.retryable and 5 <= error.retry_after <= 7


def test_errors_read_in_korean_for_a_korean_member(clickup):
    from django.utils import translation

    with translation.override("ko"):
        error = fails(clickup, "find_member_by_email", workspace="999", email="a@acme.test")
    assert error.message.startswith("Toolstack에 승인되지 않은 ClickUp 워크스페이스입니다.")


def test_create_task_in_a_deleted_list_is_permanent(clickup):
    clickup.fail_next(
        "task.create", status=404, body={"err": "List not found", "ECODE": "ITEM_015"}
    )
    error = fails(clickup, "create_task", list=clickup.list_id, name="x")
    assert error.permanent
    assert error.message == (
        "ClickUp cannot find that list or task (List not found). Pick it again, or check that "
        "it was not deleted."
    )


def test_create_task_in_an_unknown_time_zone_calls_nothing(clickup):
    error = fails(
        clickup,
        "create_task",
        list=clickup.list_id,
        name="x",
        due_date="2026-12-04",
        timezone="Seoul",
    )
    assert error.permanent and "Asia/Seoul" in error.message
    assert clickup.calls("task.create") == []


# -- previews


def test_task_and_comment_previews_are_the_requests_then_sent_and_send_nothing(clickup):
    token = clickup.issue_token()
    task_config = {
        "list": clickup.list_id,
        "name": "Sign the contract",
        "assignees": "grace@acme.test",
        "due_date": "2026-12-04 18:00",
        "timezone": "Asia/Seoul",
    }
    ctx = context(clickup, token, **task_config)
    action = ctx.integration.action("create_task")
    preview = action.preview(ctx)
    assert clickup.calls("task.create") == [], "a preview creates nothing"
    assert token not in repr(preview)
    assert preview["body"]["assignees"] == [clickup.grace]
    assert preview["body"]["due_date"] == ms(datetime(2026, 12, 4, 18, tzinfo=SEOUL))
    task = action.run(ctx)
    [sent] = clickup.calls("task.create")
    assert preview["url"] == clickup.origin + sent.path
    assert preview["body"] == sent.body

    ctx = context(clickup, token, task=task["id"], text="Please sign by Friday")
    comment = ctx.integration.action("add_comment")
    preview = comment.preview(ctx)
    assert clickup.calls("task.comment.create") == []
    comment.run(ctx)
    [sent] = clickup.calls("task.comment.create")
    assert preview["body"] == sent.body


def test_comment_and_member_lookup_rate_limited_wait_for_the_reset(clickup):
    task = clickup.add_task(clickup.list_id, "Renew the contract")
    clickup.rate_limit("task.comment.create", retry_after=6)
    error = fails(clickup, "add_comment", task=task["id"], text="Hi")
    assert error.retryable and 4 <= error.retry_after <= 6
    assert clickup.comments[task["id"]] == []
    clickup.rate_limit("team", retry_after=6)
    error = fails(clickup, "find_member_by_email", workspace=clickup.team_id, email="a@acme.test")
    assert error.retryable and 4 <= error.retry_after <= 6
