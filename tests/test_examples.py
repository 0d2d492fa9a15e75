"""The example recipes in docs/examples/, as an operator would use them: `manage.py recipes
import FILE --publish`, then `recipes run NAME --data … --wait`, through a real Celery worker
against the fakes of Gmail, ClickUp, Slack and Notion; each test asserts what arrived at
the apps. The files name their ClickUp list, workspace, Slack channel and Notion page with
placeholders (an importer picks them in the editor); the test fills in the fakes' ids."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from hub.connections.models import Connection
from tests.conftest import ROOT, database_url_for_subprocess
from tests.fakes.clickup import FakeClickUp
from tests.fakes.gmail import FakeGoogle
from tests.fakes.notion import FakeNotion
from tests.fakes.slack import FakeSlack

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES = ROOT / "docs" / "examples"
SEOUL = ZoneInfo("Asia/Seoul")


class Apps:
    """The four fakes, one connection to each, and the people and places the flows use."""

    def __init__(self, workspace, stack) -> None:
        self.gmail = stack.enter_context(FakeGoogle())
        self.clickup = stack.enter_context(FakeClickUp())
        self.slack = stack.enter_context(FakeSlack())
        self.notion = stack.enter_context(FakeNotion())
        for label, app, token in (
            ("Team Gmail", "gmail", self.gmail.issue_token()),
            ("Team ClickUp", "clickup", self.clickup.issue_token()),
            ("Team Slack", "slack", self.slack.issue_token()),
            ("Team Notion", "notion", self.notion.issue_token()),
        ):
            connection = Connection(workspace=workspace, integration=app, label=label)
            connection.set_tokens(token, None, None)
            connection.save()
        space = self.clickup.add_space("Operations")
        self.list_id = self.clickup.add_list("Inbox tasks", space_id=space)
        self.grace_clickup = self.clickup.add_member("grace@acme.test", "Grace Hopper")
        self.grace_slack = self.slack.add_user("grace@acme.test", "Grace Hopper")
        self.channel = self.slack.add_channel("team")
        _db, self.inbox = self.notion.add_database(
            "Inbox",
            {
                "Name": "title",
                "From": "email",
                "Received": "date",
                "Priority": ("select", ["High", "Low"]),
                "Important": "checkbox",
                "Summary": "rich_text",
                "Link": "url",
            },
        )

    def settings(self) -> dict[str, str]:
        return {
            **self.gmail.settings(),
            **self.clickup.settings(),
            **self.slack.settings(),
            **self.notion.settings(),
        }

    def placeholders(self) -> dict[str, str]:
        return {
            "CLICKUP_LIST_ID": self.list_id,
            "CLICKUP_WORKSPACE_ID": self.clickup.team_id,
            "SLACK_CHANNEL_ID": self.channel,
            "NOTION_DATABASE_ID": self.inbox,
        }


@pytest.fixture
def apps(workspace):
    import contextlib

    with contextlib.ExitStack() as stack:
        yield Apps(workspace, stack)


@pytest.fixture
def worker_env(apps):
    return apps.settings()


def command(env, *args):
    result = subprocess.run(  # noqa: S603  (our own command line)
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout


def import_and_run(apps, worker, tmp_path, example: str, data: dict) -> str:
    """Import the example (placeholders filled in) and publish it, run it and wait; returns
    what `recipes run --wait` printed."""
    text = (EXAMPLES / example).read_text()
    for placeholder, value in apps.placeholders().items():
        text = text.replace(placeholder, value)
    path = tmp_path / example
    path.write_text(text)
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_subprocess(),
        "CELERY_QUEUE": worker.queue,
        **apps.settings(),
    }
    out = command(env, "recipes", "import", str(path), "--publish")
    assert "Published as version 1" in out, out
    name = json.loads(text)["name"]
    out = command(env, "recipes", "run", name, "--data", json.dumps(data), "--wait")
    status = next(line for line in out.splitlines() if line.startswith("Run ") and ": " in line)
    assert status.endswith(": succeeded"), out
    return out


def test_every_example_is_a_valid_recipe_file():
    from hub.recipes import format as recipe_format

    files = sorted(EXAMPLES.glob("*.json"))
    # The four flows of the catalogue, and the AI flagship (tests/test_llm_flagship.py).
    assert len(files) == 5
    for path in files:
        document = recipe_format.normalize(json.loads(path.read_text()))
        blocking = recipe_format.blocking(recipe_format.validate(document))
        assert not blocking, (path.name, blocking)


def test_important_email_becomes_an_assigned_task_and_a_slack_dm(
    apps, celery_worker_process, tmp_path
):
    sent = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)  # 10:30 in Seoul
    email = apps.gmail.deliver(
        "ceo@acme.test",
        subject="Renew the Hanbit contract",
        body="Please handle this by Thursday.\nAssign to grace@acme.test\n\n-- \nCEO",
        labels=("INBOX", "UNREAD", "IMPORTANT"),
        date=sent,
    )
    import_and_run(
        apps,
        celery_worker_process,
        tmp_path,
        "important-email-to-clickup-task.json",
        {"message_id": email["id"]},
    )
    [task] = [t for t in apps.clickup.tasks.values() if t["name"] == "Renew the Hanbit contract"]
    assert [a["email"] for a in task["assignees"]] == ["grace@acme.test"]
    # Two days after the email, at 18:00 in the recipe's time zone (Asia/Seoul).
    due = datetime.combine(datetime(2026, 12, 3).date(), time(18, 0), SEOUL)
    assert int(task["due_date"]) == int(due.timestamp() * 1000)
    dm = apps.slack.ims[apps.grace_slack]["id"]
    [message] = apps.slack.messages[dm]
    assert message["text"].startswith("New ClickUp task for you: Renew the Hanbit contract")
    assert task["url"] in message["text"]


def test_email_becomes_a_typed_notion_database_row(apps, celery_worker_process, tmp_path):
    email = apps.gmail.deliver(
        "Lee Min <lee@hanbit.test>",
        subject="Quote for 2027",
        body="Here is our quote: 12,000,000 KRW.",
        date=datetime(2026, 12, 1, 0, 15, tzinfo=UTC),
    )
    import_and_run(
        apps,
        celery_worker_process,
        tmp_path,
        "email-to-notion-database-row.json",
        {"message_id": email["id"], "important": True},
    )
    [row] = [p for p in apps.notion.pages.values() if p["parent"].get("data_source_id")]
    values = {name: prop[prop["type"]] for name, prop in row["properties"].items()}
    assert values["Name"][0]["plain_text"] == "Quote for 2027"
    assert values["From"] == "lee@hanbit.test"
    received = datetime.fromisoformat(values["Received"]["start"])
    assert received == datetime(2026, 12, 1, 9, 15, tzinfo=SEOUL)  # the email's moment
    assert values["Priority"]["name"] == "High"
    assert values["Important"] is True
    assert values["Summary"][0]["plain_text"] == "Here is our quote: 12,000,000 KRW."
    assert values["Link"].startswith("https://mail.google.com/")


def test_tasks_due_today_in_seoul_go_to_slack_in_one_message(apps, celery_worker_process, tmp_path):
    today = datetime.now(SEOUL).date()
    noon = datetime.combine(today, time(12, 0), SEOUL)
    ms = lambda moment: int(moment.timestamp() * 1000)  # noqa: E731
    apps.clickup.add_task(apps.list_id, "Send the invoice", due_date=ms(noon))
    apps.clickup.add_task(apps.list_id, "Call Hanbit", due_date=ms(noon + timedelta(hours=5)))
    apps.clickup.add_task(apps.list_id, "Plan 2027", due_date=ms(noon + timedelta(days=1)))
    apps.clickup.add_task(apps.list_id, "Old one", due_date=ms(noon - timedelta(days=1)))
    import_and_run(
        apps, celery_worker_process, tmp_path, "weekday-tasks-due-today-to-slack.json", {}
    )
    [message] = apps.slack.messages[apps.channel]
    assert message["text"].startswith("ClickUp tasks due today (2): ")
    assert {"Send the invoice", "Call Hanbit"} == set(message["text"].split(": ", 1)[1].split(", "))


def test_meeting_notes_become_clickup_tasks(apps, celery_worker_process, tmp_path):
    def todo(text):
        return {"type": "to_do", "to_do": {"rich_text": [{"text": {"content": text}}]}}

    page = apps.notion.add_page(
        "", "Weekly sync", blocks=[todo("Send the deck to Hanbit"), todo("Book the venue")]
    )
    import_and_run(
        apps,
        celery_worker_process,
        tmp_path,
        "meeting-notes-to-clickup-tasks.json",
        {"page": f"https://www.notion.so/acme/Weekly-sync-{page['id'].replace('-', '')}"},
    )
    names = sorted(t["name"] for t in apps.clickup.tasks.values())
    assert names == ["Book the venue", "Send the deck to Hanbit"]
