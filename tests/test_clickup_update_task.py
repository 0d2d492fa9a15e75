"""update_task changes only the fields a step gives: assignees added and removed against who
is on the task, custom fields set one request each, and the preview is what is then sent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.test_clickup_actions import clickup, context, fails, ms, run  # noqa: F401


@pytest.fixture
def task(clickup):  # noqa: F811
    clickup.linus = clickup.add_member("linus@acme.test", "Linus Torvalds")
    return clickup.add_task(
        clickup.list_id,
        "Renew the contract",
        description="Old notes",
        assignees=[clickup.user["id"], clickup.linus],
        priority=3,
        due_date=ms(datetime(2026, 12, 1, tzinfo=UTC)),
    )


def test_only_the_fields_given_change(clickup, task):  # noqa: F811
    out = run(clickup, "update_task", task=task["id"], status="in progress", description="")
    [call] = clickup.calls("task.update")
    assert call.body == {"status": "in progress"}
    stored = clickup.tasks[task["id"]]
    assert stored["name"] == "Renew the contract" and stored["description"] == "Old notes"
    assert len(stored["assignees"]) == 2 and stored["priority"]["priority"] == "normal"
    assert out["status"] == "in progress" and out["name"] == "Renew the contract"
    assert clickup.calls("task.get") == [], "nothing read when assignees are not changed"


def test_assignees_become_the_people_named(clickup, task):  # noqa: F811
    run(clickup, "update_task", task=task["id"], assignees=["grace@acme.test", "ada@acme.test"])
    [call] = clickup.calls("task.update")
    assert call.body == {"assignees": {"add": [clickup.grace], "rem": [clickup.linus]}}
    emails = sorted(a["email"] for a in clickup.tasks[task["id"]]["assignees"])
    assert emails == ["ada@acme.test", "grace@acme.test"]


def test_naming_the_people_already_there_sends_nothing(clickup, task):  # noqa: F811
    out = run(
        clickup, "update_task", task=task["id"], assignees=[str(clickup.linus), "ada@acme.test"]
    )
    assert clickup.calls("task.update") == []
    assert out["id"] == task["id"]


def test_dates_in_seoul_and_priority(clickup, task):  # noqa: F811
    run(
        clickup,
        "update_task",
        task=task["id"],
        due_date="2026-12-04T18:00",
        start_date="2026-12-02",
        timezone="Asia/Seoul",
        priority="urgent",
    )
    body = clickup.calls("task.update")[-1].body
    assert body["due_date"] == ms(datetime(2026, 12, 4, 9, tzinfo=UTC))
    assert body["due_date_time"] is True and body["start_date_time"] is False
    assert body["start_date"] == ms(datetime(2026, 12, 1, 15, tzinfo=UTC))
    assert body["priority"] == 1


def test_custom_fields_are_set_one_request_each(clickup, task):  # noqa: F811
    stage = clickup.add_custom_field(clickup.list_id, "Stage", "drop_down", options=["Lead", "Won"])
    owner = clickup.add_custom_field(clickup.list_id, "Owner", "users")
    ctx = context(clickup, task=task["id"])
    with ctx.integration.errors():
        ctx.client().post(
            f"task/{task['id']}/field/{owner['id']}", {"value": {"add": [clickup.linus]}}
        )
    clickup.log.clear()

    out = run(
        clickup,
        "update_task",
        task=task["id"],
        name="Renew the contract (signed)",
        **{f"cf_{stage['id']}": "Won", f"cf_{owner['id']}": "grace@acme.test"},
    )
    sets = clickup.calls("task.field.set")
    assert [c.path.rsplit("/", 1)[-1] for c in sets] == [stage["id"], owner["id"]]
    assert sets[0].body == {"value": stage["type_config"]["options"][1]["id"]}
    assert sets[1].body == {"value": {"add": [clickup.grace], "rem": [clickup.linus]}}
    assert clickup.field_value(task["id"], stage["id"]) == 1
    assert [u["id"] for u in clickup.field_value(task["id"], owner["id"])] == [clickup.grace]
    assert out["name"] == "Renew the contract (signed)"


def test_the_fields_provider_reads_the_tasks_own_list(clickup, task):  # noqa: F811
    clickup.add_custom_field(clickup.list_id, "Stage", "drop_down", options=["Lead"])
    ctx = context(clickup, task=task["id"])
    fields = ctx.integration.action("update_task").fields_provider(ctx)
    assert [f.label for f in fields] == ["Stage"]
    assert clickup.calls("task.get")[-1].path.endswith(task["id"])


def test_the_preview_is_every_request_then_sent(clickup, task):  # noqa: F811
    stage = clickup.add_custom_field(clickup.list_id, "Stage", "drop_down", options=["Lead", "Won"])
    token = clickup.issue_token()
    ctx = context(
        clickup,
        token,
        task=task["id"],
        assignees="grace@acme.test",
        **{f"cf_{stage['id']}": "Lead"},
    )
    action = ctx.integration.action("update_task")
    preview = action.preview(ctx)
    assert clickup.calls("task.update") == [] and clickup.calls("task.field.set") == []
    assert token not in repr(preview)
    action.run(ctx)
    sent = clickup.calls("task.update") + clickup.calls("task.field.set")
    assert [(r["method"], r["url"], r["body"]) for r in preview["requests"]] == [
        (c.method, clickup.origin + c.path, c.body) for c in sent
    ]
    assert preview["body"] == sent[0].body


def test_nothing_given_says_what_to_do(clickup, task):  # noqa: F811
    error = fails(clickup, "update_task", task=task["id"], name="", status=None)
    assert error.permanent
    assert error.message == "Nothing to change: give at least one of the task's fields a value."
    assert len(clickup.log) == 0


def test_a_missing_task_is_permanent_and_a_429_waits_for_the_reset(clickup, task):  # noqa: F811
    error = fails(clickup, "update_task", task="nope1234", name="x")
    assert error.permanent and error.message.startswith("ClickUp cannot find that list or task")
    clickup.rate_limit("task.update", retry_after=6)
    error = fails(clickup, "update_task", task=task["id"], name="x")
    assert error.retryable and 4 <= error.retry_after <= 6
