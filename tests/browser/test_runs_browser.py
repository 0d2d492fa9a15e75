"""A failed run as a person meets it: on Home among recent failures, on the Runs page by its
filter, read step by step, fixed at the app, replayed — and the replay's page follows it to
success without a reload."""

from __future__ import annotations

import re

import pytest

from hub.engine.executor import execute
from hub.engine.models import Run
from hub.engine.runs import start_run
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD, make_recipe, slack_connection, slack_step

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_failed_run_is_read_and_replayed(
    page, live_server, workspace, admin_user, fake_slack, screenshot
):
    sales = fake_slack.add_channel("sales", member=False)
    slack_connection(workspace, fake_slack)
    recipe = make_recipe(
        workspace, [slack_step(sales, text="New lead: {{ trigger.name }}")], name="Lead alert"
    )
    run = start_run(recipe, Run.Source.MANUAL, {"name": "Ada"})
    execute(run.id)
    assert Run.objects.get(pk=run.pk).status == Run.Status.FAILED

    sign_in(page, live_server, admin_user.email, PASSWORD)
    failures = page.get_by_role("region", name="Recent failed runs")
    assert failures.get_by_text("Lead alert").is_visible()
    screenshot("home")

    failures.get_by_role("link", name="All failed runs").click()
    page.wait_for_url(re.compile(r"/runs/\?status=failed"))
    assert page.get_by_label("Status").input_value() == "failed"
    page.get_by_role("link", name=f"#{run.pk}").click()
    page.wait_for_url(f"{live_server.url}/runs/{run.pk}/")
    problem = "The bot is not in #sales — type /invite @Toolstack in #sales."
    assert page.get_by_text(problem).first.is_visible()
    assert page.get_by_text("New lead: Ada").first.is_visible()  # the failed step kept its input
    screenshot("failed")

    # The member invites the bot in Slack, then replays from the failed step.
    fake_slack.channels[sales]["is_member"] = True
    page.get_by_role("button", name="Replay from the failed step").click()
    page.wait_for_url(re.compile(r"/runs/\d+/$"))
    replay = Run.objects.exclude(pk=run.pk).get()
    assert page.url.endswith(f"/runs/{replay.pk}/")
    assert page.get_by_role("status").get_by_text("follows the run").is_visible()
    execute(replay.id)
    # No reload: the page asks for the run's state until it has finished.
    page.get_by_role("heading", name=f"Run #{replay.pk}").get_by_text("Succeeded").wait_for()
    assert page.get_by_text("This page follows the run as it goes.").count() == 0
    screenshot("replayed")
    posted = fake_slack.messages[sales]
    assert [m["text"] for m in posted] == ["New lead: Ada"]
