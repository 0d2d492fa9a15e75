"""slack.send_message end to end through slack-sdk against the Slack fake."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from django.utils import timezone

from hub.engine.executor import execute
from hub.engine.models import Run
from hub.engine.runs import start_run
from hub.recipes.models import Recipe
from tests.conftest import (
    ROOT,
    database_url_for_subprocess,
    make_recipe,
    slack_connection,
    slack_step,
)


@pytest.fixture
def worker_env(fake_slack):
    return fake_slack.settings()


def posted(fake):
    return [m["text"] for m in fake.messages[fake.general]]


def test_send_message_posts_the_mapped_text(workspace, fake_slack):
    slack_connection(workspace, fake_slack)
    recipe = make_recipe(workspace, [slack_step(fake_slack.general)])
    run = start_run(recipe, Run.Source.MANUAL, {"name": "ada"})
    assert execute(run.id) == "succeeded"
    assert posted(fake_slack) == ["Hello ADA"]
    step = run.steps.get()
    assert step.input == {"channel": fake_slack.general, "text": "Hello ADA"}
    assert step.output["ts"] and step.output["channel"] == fake_slack.general
    assert "xoxb" not in json.dumps(step.input) + json.dumps(step.output)


def test_rate_limited_slack_is_retried_after_retry_after(workspace, fake_slack):
    slack_connection(workspace, fake_slack)
    fake_slack.rate_limit("chat.postMessage", retry_after=9)
    recipe = make_recipe(workspace, [slack_step(fake_slack.general)])
    run = start_run(recipe, Run.Source.MANUAL, {"name": "x"})
    assert execute(run.id) == "waiting"
    run.refresh_from_db()
    assert (run.resume_at - timezone.now()).total_seconds() > 8
    Run.objects.filter(id=run.id).update(resume_at=timezone.now())
    assert execute(run.id) == "succeeded"
    assert posted(fake_slack) == ["Hello X"]


def test_unknown_channel_fails_permanently(workspace, fake_slack):
    slack_connection(workspace, fake_slack)
    recipe = make_recipe(workspace, [slack_step("C_NOPE")])
    run = start_run(recipe, Run.Source.MANUAL, {"name": "x"})
    assert execute(run.id) == "failed"
    run.refresh_from_db()
    assert run.failed_step == "notify" and run.error


def test_revoked_token_marks_connection_broken_and_pauses_recipe(workspace, fake_slack):
    connection = slack_connection(workspace, fake_slack)
    recipe = make_recipe(workspace, [slack_step(fake_slack.general)])
    fake_slack.revoke_token(connection.access_token)
    run = start_run(recipe, Run.Source.MANUAL, {"name": "x"})
    assert execute(run.id) == "failed"
    run.refresh_from_db()
    assert "reconnect" in run.error
    connection.refresh_from_db()
    assert connection.status == "needs_reconnect"
    recipe.refresh_from_db()
    assert recipe.state == Recipe.State.PAUSED
    assert "Acme Slack" in recipe.paused_reason


def test_missing_connection_imports_as_draft(workspace, fake_slack):
    from hub.recipes.services import import_recipe

    document = {
        "format": "toolstack.recipe/1",
        "name": "Needs Slack",
        "steps": [slack_step("C1")],
    }
    recipe, problems = import_recipe(workspace, document, publish=True)
    assert recipe.state == "draft" and recipe.current_version is None
    assert any("Connect Slack as “Acme Slack”" in str(p) for p in problems)


def manage(*args, input_text=None, env=None):
    return subprocess.run(  # noqa: S603  (our own command line)
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        input=input_text,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.django_db(transaction=True)
def test_commands_import_run_wait_and_export(
    workspace, fake_slack, celery_worker_process, tmp_path
):
    import os

    slack_connection(workspace, fake_slack)
    document = {
        "format": "toolstack.recipe/1",
        "name": "Greet",
        "trigger": {"app": "manual"},
        "steps": [slack_step(fake_slack.general, text="Hi {{ trigger.who }}!")],
    }
    path = tmp_path / "greet.json"
    path.write_text(json.dumps(document))
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_subprocess(),
        "CELERY_QUEUE": celery_worker_process.queue,
        **fake_slack.settings(),
    }
    result = manage("recipes", "import", str(path), "--publish", env=env)
    assert result.returncode == 0, result.stderr
    assert "Published as version 1" in result.stdout
    result = manage("recipes", "run", "Greet", "--data", '{"who": "Ada"}', "--wait", env=env)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "succeeded" in result.stdout
    assert "notify attempt 1: succeeded" in result.stdout
    assert posted(fake_slack) == ["Hi Ada!"]
    result = manage("recipes", "export", "Greet", env=env)
    exported = json.loads(result.stdout)
    assert exported["steps"][0]["connection"] == "Acme Slack"
    assert "xox" not in result.stdout
