"""Journey 1: from an empty hub with Gmail, ClickUp and Slack connected, a member builds
"important email -> ClickUp task -> Slack message" by clicking, tests every step (reads for
real, writes previewed, the Slack message then sent for real), publishes, runs it and sees
the run succeed. The number of interactions is kept here so it only ever goes down."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from hub.engine.models import Run
from hub.recipes.models import Recipe
from tests.browser.conftest import sign_in
from tests.browser.editor_kit import Person, connect
from tests.conftest import PASSWORD
from tests.fakes.clickup import FakeClickUp
from tests.fakes.gmail import FakeGoogle

pytestmark = pytest.mark.django_db(transaction=True)

INTERACTIONS = 25


@pytest.fixture
def google(settings):
    with FakeGoogle() as fake:
        for key, value in fake.settings().items():
            setattr(settings, key, value)
        yield fake


@pytest.fixture
def clickup(settings):
    with FakeClickUp() as fake:
        for key, value in fake.settings().items():
            setattr(settings, key, value)
        space = fake.add_space("Operations")
        fake.list_id = fake.add_list("Inbox tasks", space_id=space)
        yield fake


@pytest.fixture
def worker_env(fake_slack, google, clickup):
    return {**fake_slack.settings(), **google.settings(), **clickup.settings()}


@pytest.fixture
def apps(workspace, fake_slack, google, clickup):
    connect(workspace, "slack", "Acme Slack", fake_slack.issue_token())
    connect(workspace, "gmail", "ada@acme.test", google.issue_token())
    connect(workspace, "clickup", "Acme ClickUp", clickup.issue_token())
    google.deliver(
        "ceo@acme.test",
        subject="Quarterly report",
        body="Please review",
        labels=("INBOX", "IMPORTANT"),
    )
    return fake_slack, google, clickup


def build_flagship(page, live_server, who: Person, clickup, words: dict) -> None:
    """The build, by clicks and typed values only; ``words`` are the UI's labels."""
    page.goto(f"{live_server.url}/recipes/")
    who.click(page.get_by_role("button", name=words["new"]))
    page.wait_for_url(re.compile(r"/recipes/\d+/edit/$"))
    who.check_axe("1-empty")

    who.click(page.get_by_role("button", name=words["add"]))
    who.click(page.get_by_role("button", name="Gmail"))
    who.click(page.get_by_role("button", name=words["find_emails"]))
    who.check_axe("2-gmail-fields")
    who.fill(page.locator("#step-find_emails-query"), "is:important")
    who.click(page.locator("#step-find_emails-test"))
    expect(page.locator("#step-find_emails-result")).to_contain_text("Quarterly report")

    who.click(page.locator("#add-step-1"))
    who.click(page.get_by_role("button", name="ClickUp"))
    who.click(page.get_by_role("button", name=words["create_task"], exact=True))
    # The list through its chained pickers: Workspace, then Space ("No folder" is the
    # default), then the list itself.
    who.choose(page.locator("#step-create_task-workspace"), "Acme")
    who.choose(page.locator("#step-create_task-space"), "Operations")
    who.choose(page.locator("#step-create_task-list"), "Inbox tasks")
    who.click(page.locator('[data-insert-for="step-create_task-name"]'))
    who.check_axe("3-insert-data")
    with page.expect_response(lambda r: "/edit/steps/" in r.url):
        who.click(page.locator('.insert-item[data-ref="steps.find_emails.emails.0.subject"]'))
    who.saved()
    expect(page.locator('[data-chips-for="step-create_task-name"] .chip')).to_have_count(1)
    who.click(page.locator("#step-create_task-test"))
    expect(page.locator("#step-create_task-result")).to_contain_text("Quarterly report")
    who.check_axe("4-task-preview")

    who.click(page.locator("#add-step-2"))
    who.click(page.get_by_role("button", name="Slack"))
    who.click(page.get_by_role("button", name=words["send_message"], exact=True))
    who.choose(page.locator("#step-send_message-channel"), "general")
    who.fill(page.locator("#step-send_message-text"), words["message"])
    who.click(page.locator("#step-send_message-test"))
    expect(page.locator("#step-send_message-result")).to_contain_text(words["message"])
    who.click(page.get_by_role("button", name=words["send_for_real"]))
    who.check_axe("5-confirm-send")
    who.click(page.get_by_role("button", name=words["yes_send"]))
    expect(page.locator("#step-send_message-result")).to_contain_text(words["sent"])

    who.click(page.get_by_role("button", name=words["publish"]))
    expect(page.locator("#publish-panel")).to_contain_text(words["published"])
    who.check_axe("6-published")


def see_the_run_succeed(page, who: Person, words: dict) -> Run:
    who.click(page.get_by_role("button", name=words["run_now"]))
    page.wait_for_url(re.compile(r"/runs/\d+/$"))
    for _attempt in range(60):
        run = Run.objects.order_by("-id").first()
        if run and run.status in (Run.Status.SUCCEEDED, Run.Status.FAILED):
            break
        time.sleep(0.5)
    page.reload()
    return run


EN = {
    "new": "New recipe",
    "add": "Add a step",
    "find_emails": "Find emails",
    "create_task": "Create a task",
    "send_message": "Send a message",
    "message": "A task was made from an important email.",
    "send_for_real": "Send for real…",
    "yes_send": "Yes, send it for real",
    "sent": "Sent. The app answered",
    "publish": "Publish and turn on",
    "published": "Published version 1",
    "run_now": "Run now",
    "succeeded": "Succeeded",
}


def test_a_member_builds_tests_publishes_and_runs_the_flagship_by_clicking(
    page, live_server, workspace, member_user, apps, celery_worker_process, screenshot
):
    slack, _google, clickup = apps
    page.set_default_timeout(30_000)
    sign_in(page, live_server, member_user.email, PASSWORD)
    # Members use connections shared with everyone (the default sharing).
    who = Person(page, screenshot)
    build_flagship(page, live_server, who, clickup, EN)
    screenshot("7-built")
    assert [m["text"] for m in slack.messages[slack.general]] == [EN["message"]]
    assert clickup.tasks == {}  # previewed only
    run = see_the_run_succeed(page, who, EN)
    screenshot("8-run")
    assert run.status == Run.Status.SUCCEEDED, run.error
    expect(page.get_by_text(EN["succeeded"]).first).to_be_visible()
    assert [t["name"] for t in clickup.tasks.values()] == ["Quarterly report"]
    assert len(slack.messages[slack.general]) == 2
    recipe = Recipe.objects.get()
    assert recipe.owner == member_user and recipe.current_version.number == 1
    assert who.count == INTERACTIONS
