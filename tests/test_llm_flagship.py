"""The flagship example, docs/examples/important-email-to-clickup.json, from the command line:
``recipes import`` then ``recipes run --wait`` with an important email, through a real worker,
against the OpenAI, ClickUp and Slack fakes — the task created for the right person on the
right day, the team told, and the AI call recorded and priced (``llm usage --json``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal

import pytest

from hub.connections.models import Connection
from hub.llm.models import LLMCall
from integrations import registry
from tests.conftest import ROOT, database_url_for_subprocess, slack_connection
from tests.fakes.clickup import FakeClickUp
from tests.llm_support import provider_connection, start_fake

EXAMPLE = ROOT / "docs" / "examples" / "important-email-to-clickup.json"
EMAIL = {
    "id": "18c1f2a3b4c5d6e7",
    "from": "Lee Park <lee@acme.test>",
    "subject": "Board report",
    "body_clean": (
        "Hi Mina,\nCould you prepare the board report?\n"
        "Task: Prepare the Q3 board report\nAssignee email: mina@acme.test\n"
        "Due date: 2026-12-04\nPriority: urgent\nThanks, Lee"
    ),
}

pytestmark = pytest.mark.skipif(
    "new_email" not in registry.get("gmail").triggers,
    reason="the example's trigger is Gmail's new_email",
)


@pytest.fixture(autouse=True)
def prices(transactional_db):
    # A test on a real worker before this one flushed the tables, the seeded prices too.
    from hub.llm.models import ModelPrice
    from hub.llm.seed_prices import seed

    seed(ModelPrice)


@pytest.fixture
def fakes(settings, fake_slack):
    openai = start_fake("openai")
    clickup = FakeClickUp().start()
    space = clickup.add_space("Operations")
    clickup.list_id = clickup.add_list("Board", space_id=space)
    clickup.mina = clickup.add_member("mina@acme.test", "Mina Kim")
    settings.OPENAI_BASE_URL = openai.base_url
    settings.CLICKUP_API_URL = clickup.base_url
    yield {"openai": openai, "clickup": clickup, "slack": fake_slack}
    openai.stop()
    clickup.stop()


@pytest.fixture
def worker_env(fakes):
    return {
        "OPENAI_BASE_URL": fakes["openai"].base_url,
        "CLICKUP_API_URL": fakes["clickup"].base_url,
        **fakes["slack"].settings(),
    }


def manage(*args, env):
    return subprocess.run(  # noqa: S603  (our own command line)
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )


@pytest.mark.django_db(transaction=True)
def test_the_flagship_recipe_runs_end_to_end_and_its_call_is_priced(
    workspace, fakes, worker_env, celery_worker_process, tmp_path
):
    openai, clickup, slack = fakes["openai"], fakes["clickup"], fakes["slack"]
    provider_connection(workspace, "openai", openai)
    gmail = Connection(workspace=workspace, integration="gmail", label="Sales Gmail")
    gmail.set_tokens("ya29.not-polled-here", None, None)
    gmail.save()
    team = Connection(workspace=workspace, integration="clickup", label="Team ClickUp")
    team.set_tokens(clickup.issue_token(), None, None)
    team.save()
    slack_connection(workspace, slack)

    # The example's list and channel are placeholders: set them to this workspace's.
    document = json.loads(EXAMPLE.read_text())
    document["steps"][1]["config"]["list"] = clickup.list_id
    document["steps"][2]["config"]["channel"] = slack.general
    path = tmp_path / "example.json"
    path.write_text(json.dumps(document))
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_subprocess(),
        "CELERY_QUEUE": celery_worker_process.queue,
        **worker_env,
    }
    result = manage("recipes", "import", str(path), "--publish", env=env)
    assert result.returncode == 0, result.stderr + result.stdout
    result = manage(
        "recipes", "run", document["name"], "--data", json.dumps(EMAIL), "--wait", env=env
    )
    assert result.returncode == 0, result.stderr + result.stdout + celery_worker_process.log()
    assert "succeeded" in result.stdout and "notify attempt 1: succeeded" in result.stdout

    [task] = clickup.tasks.values()
    assert task["name"] == "Prepare the Q3 board report"
    assert [a["id"] for a in task["assignees"]] == [clickup.mina]
    [message] = slack.messages[slack.general]
    assert "mina@acme.test" in message["text"] and "2026-12-04" in message["text"]

    [call] = LLMCall.objects.all()
    assert (call.operation, call.provider, call.status) == ("extract", "openai", "ok")
    assert call.cost is not None and call.cost > Decimal(0)
    assert call.price.model_pattern == "gpt-4o-mini*"
    usage = json.loads(manage("llm", "usage", "--json", env=env).stdout)
    [mine] = [w for w in usage if w["workspace"] == workspace.slug]
    assert mine["calls"] == 1 and mine["unknown_price_calls"] == 0
    assert Decimal(mine["cost_usd"]) == call.cost
