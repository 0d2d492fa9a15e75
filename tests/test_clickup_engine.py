"""ClickUp steps run by the engine against the ClickUp fake: a trigger delivered twice makes
one task (and two comments), a 429 parks the run until ClickUp's reset time, a revoked token
asks for a reconnect."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from hub.connections.models import Connection
from hub.engine.executor import execute
from hub.engine.models import Run
from hub.engine.runs import start_run
from tests.conftest import make_recipe
from tests.fakes.clickup import FakeClickUp


@pytest.fixture
def clickup(settings):
    with FakeClickUp() as fake:
        for key, value in fake.settings().items():
            setattr(settings, key, value)
        space = fake.add_space("Operations")
        fake.list_id = fake.add_list("Requests", space_id=space)
        fake.grace = fake.add_member("grace@acme.test", "Grace Hopper")
        yield fake


@pytest.fixture
def connection(workspace, clickup):
    found = Connection(workspace=workspace, integration="clickup", label="Team ClickUp")
    found.set_tokens(clickup.issue_token(), None, None)
    found.save()
    return found


def steps(list_id: str) -> list[dict]:
    return [
        {
            "key": "task",
            "app": "clickup",
            "action": "find_or_create_task",
            "connection": "Team ClickUp",
            "config": {
                "list": list_id,
                "name": "{{ trigger.subject }}",
                "assignees": "{{ trigger.owners }}",
                "due_date": "{{ trigger.due }}",
                "timezone": "Asia/Seoul",
                "priority": "high",
            },
        },
        {
            "key": "note",
            "app": "clickup",
            "action": "add_comment",
            "connection": "Team ClickUp",
            "config": {
                "task": "{{ steps.task.id }}",
                "text": "Seen again: {{ steps.task.outcome }}",
            },
        },
    ]


EMAIL = {
    "subject": "Contract from Globex",
    "owners": ["grace@acme.test"],
    "due": "2026-12-04 18:00",
}


def test_a_trigger_delivered_twice_makes_one_task(workspace, connection, clickup):
    recipe = make_recipe(workspace, steps(clickup.list_id))
    first = start_run(recipe, Run.Source.MANUAL, EMAIL)
    assert execute(first.id) == "succeeded"
    again = start_run(recipe, Run.Source.MANUAL, EMAIL)
    assert execute(again.id) == "succeeded"

    [task] = clickup.tasks.values()
    assert task["name"] == "Contract from Globex"
    assert [a["email"] for a in task["assignees"]] == ["grace@acme.test"]
    assert task["due_date"] == "1796374800000"  # 18:00 in Seoul
    texts = [c["comment_text"] for c in clickup.comments[task["id"]]]
    assert texts == ["Seen again: created", "Seen again: found"]
    outputs = [run.steps.get(key="task").output for run in (first, again)]
    assert [o["outcome"] for o in outputs] == ["created", "found"]
    assert outputs[0]["due_date"] == "2026-12-04T18:00:00+09:00"
    assert connection.access_token not in json.dumps(outputs)


def test_a_rate_limited_step_waits_for_clickups_reset(workspace, connection, clickup):
    clickup.rate_limit("task.create", retry_after=9)
    recipe = make_recipe(workspace, steps(clickup.list_id))
    run = start_run(recipe, Run.Source.MANUAL, EMAIL)
    assert execute(run.id) == "waiting"
    run.refresh_from_db()
    assert (run.resume_at - timezone.now()).total_seconds() > 6
    Run.objects.filter(id=run.id).update(resume_at=timezone.now())
    assert execute(run.id) == "succeeded"
    assert len(clickup.tasks) == 1


def test_a_revoked_token_asks_for_a_reconnect(workspace, connection, clickup):
    clickup.revoke_token(connection.access_token)
    recipe = make_recipe(workspace, steps(clickup.list_id))
    run = start_run(recipe, Run.Source.MANUAL, EMAIL)
    assert execute(run.id) == "failed"
    connection.refresh_from_db()
    assert connection.status == "needs_reconnect"
    assert clickup.tasks == {}
