"""A filter built by clicks: Gmail finds the newest email, a filter row tests its subject
(picked from Insert data, shown as a readable chip in the field), an extra row is added and
removed, and the published recipe's runs pass or stop at the filter as the email says."""

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
from tests.fakes.gmail import FakeGoogle

pytestmark = pytest.mark.django_db(transaction=True)

SUBJECT = "steps.find_emails.emails.0.subject"


@pytest.fixture
def google(settings):
    with FakeGoogle() as fake:
        for key, value in fake.settings().items():
            setattr(settings, key, value)
        yield fake


@pytest.fixture
def worker_env(google):
    return google.settings()


def finished_run(after_id: int) -> Run:
    for _attempt in range(60):
        run = Run.objects.filter(id__gt=after_id).order_by("-id").first()
        if run and run.status not in (Run.Status.QUEUED, Run.Status.RUNNING):
            return run
        time.sleep(0.5)
    raise AssertionError("the run did not finish")


def test_a_member_builds_a_filter_by_clicks_and_the_run_is_filtered(
    page, live_server, workspace, member_user, google, celery_worker_process, screenshot
):
    connect(workspace, "gmail", "ada@acme.test", google.issue_token())
    google.deliver("billing@acme.test", subject="Invoice 42 is due", body="Pay by Friday")
    page.set_default_timeout(30_000)
    sign_in(page, live_server, member_user.email, PASSWORD)
    who = Person(page, screenshot)
    page.goto(f"{live_server.url}/recipes/")
    who.click(page.get_by_role("button", name="New recipe"))
    page.wait_for_url(re.compile(r"/recipes/\d+/edit/$"))

    who.click(page.get_by_role("button", name="Add a step"))
    who.click(page.get_by_role("button", name="Gmail"))
    who.click(page.get_by_role("button", name="Find emails"))
    who.fill(page.locator("#step-find_emails-query"), "in:inbox")
    who.click(page.locator("#step-find_emails-test"))
    expect(page.locator("#step-find_emails-result")).to_contain_text("Invoice 42 is due")

    who.click(page.locator("#add-step-1"))
    who.click(page.get_by_role("button", name="Built-in tools"))
    who.click(page.get_by_role("button", name="Only continue if…"))
    card = page.locator("#step-filter")
    # One empty row, no JSON: field · operator · value, labelled.
    expect(card.get_by_role("textbox", name="Value to test")).to_have_count(1)
    expect(card.locator("textarea")).to_have_count(0)
    who.check_axe("1-empty-row")

    field = page.locator("#step-filter-conditions-0-field")
    who.click(page.locator('[data-insert-for="step-filter-conditions-0-field"]'))
    item = page.locator(f'#step-filter-insert .insert-item[data-ref="{SUBJECT}"]')
    expect(item).to_contain_text("Invoice 42 is due")  # the sample value beside the label
    who.check_axe("2-insert-data")
    with page.expect_response(lambda r: "/edit/steps/" in r.url):
        who.click(item)
    who.saved()
    # The field holds the reference; what the member sees in it is a readable chip.
    expect(field).to_have_value("{{ " + SUBJECT + " }}")
    chip = page.locator('[data-chips-for="step-filter-conditions-0-field"] .chip')
    expect(chip).to_be_visible()
    expect(chip).to_have_text(re.compile(r"Emails · first · Subject"))
    expect(page.locator("#step-filter-conditions-0-field-reads")).to_contain_text(
        "Reads as: Find emails · Emails · first · Subject"
    )
    who.choose(page.locator("#step-filter-conditions-0-op"), "contains")
    who.fill(page.locator("#step-filter-conditions-0-value"), "invoice")
    screenshot("3-one-row")

    # "Add condition" gives a new row with focus on its field; an operator that takes no
    # value hides the value; Remove takes the row away again.
    with page.expect_response(lambda r: "/edit/steps/" in r.url):
        who.click(page.get_by_role("button", name="Add condition"))
    new_field = page.locator("#step-filter-conditions-1-field")
    expect(new_field).to_be_focused()
    who.choose(page.locator("#step-filter-conditions-1-op"), "is not empty")
    expect(page.locator("#step-filter-conditions-1-value")).to_be_hidden()
    who.check_axe("4-two-rows")
    with page.expect_response(lambda r: "/edit/steps/" in r.url):
        who.click(page.get_by_role("button", name="Remove condition 2"))
    expect(page.locator("#step-filter-conditions-1-field")).to_have_count(0)
    recipe = Recipe.objects.get()
    assert recipe.draft["steps"][1]["config"] == {
        "conditions": [{"field": "{{ " + SUBJECT + " }}", "op": "contains", "value": "invoice"}]
    }

    who.click(page.locator("#step-filter-test"))
    expect(page.locator("#step-filter-result")).to_contain_text("Passed")
    who.click(page.get_by_role("button", name="Publish and turn on"))
    expect(page.locator("#publish-panel")).to_contain_text("Published version 1")
    screenshot("5-published")

    who.click(page.get_by_role("button", name="Run now"))
    page.wait_for_url(re.compile(r"/runs/\d+/$"))
    passed = finished_run(0)
    assert passed.status == Run.Status.SUCCEEDED, passed.error

    # A newer email without "invoice": the next run stops at the filter, not failed.
    google.deliver("friend@acme.test", subject="Lunch on Friday?", body="Noodles")
    page.goto(f"{live_server.url}/recipes/{recipe.pk}/")
    who.click(page.get_by_role("button", name="Run now"))
    page.wait_for_url(re.compile(r"/runs/\d+/$"))
    stopped = finished_run(passed.id)
    assert stopped.status == Run.Status.FILTERED, stopped.error
    page.reload()
    expect(page.get_by_text("Stopped by a filter").first).to_be_visible()
    expect(page.get_by_text(re.compile("Lunch on Friday")).first).to_be_visible()
    screenshot("6-run-filtered")


def test_a_paths_step_gets_named_paths_with_rows_and_steps_from_the_keyboard(
    page, live_server, workspace, admin_user, screenshot
):
    recipe = Recipe.objects.create(
        workspace=workspace,
        name="Route requests",
        owner=admin_user,
        draft={
            "format": "toolstack.recipe/1",
            "name": "Route requests",
            "trigger": {"app": "manual"},
            "steps": [
                {"key": "paths", "app": "builtin", "action": "paths", "config": {}},
                {
                    "key": "page_oncall",
                    "app": "builtin",
                    "action": "delay",
                    "config": {"amount": 1},
                },
                {"key": "post_note", "app": "builtin", "action": "delay", "config": {"amount": 1}},
            ],
        },
    )
    page.set_default_timeout(30_000)
    sign_in(page, live_server, admin_user.email, PASSWORD)
    who = Person(page, screenshot)
    page.goto(f"{live_server.url}/recipes/{recipe.pk}/edit/")
    card = page.locator("#step-paths")
    expect(card.get_by_label("Name of this path")).to_have_value("Path 1")
    expect(card.locator("textarea")).to_have_count(0)
    who.check_axe("1-paths")
    who.fill(card.get_by_label("Name of this path"), "urgent")
    who.fill(page.locator("#step-paths-branches-0-conditions-0-field"), "{{ trigger.priority }}")
    who.fill(page.locator("#step-paths-branches-0-conditions-0-value"), "high")
    # Typed by hand, the reference still reads as a chip once the field is left.
    expect(
        page.locator('[data-chips-for="step-paths-branches-0-conditions-0-field"] .chip')
    ).to_have_text("trigger · priority")
    with page.expect_response(lambda r: "/edit/steps/" in r.url):
        who.click(card.get_by_label("Step 2 · Built-in tools · Wait"))
    who.saved()
    # "Add condition" from the keyboard: focus lands on the new row's field.
    page.locator("#step-paths-branches-0-conditions-add").focus()
    with page.expect_response(lambda r: "/edit/steps/" in r.url):
        page.keyboard.press("Enter")
    expect(page.locator("#step-paths-branches-0-conditions-1-field")).to_be_focused()
    page.keyboard.type("{{ trigger.team }}")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # past Insert data to the test
    expect(page.locator("#step-paths-branches-0-conditions-1-op")).to_be_focused()
    with page.expect_response(lambda r: "/edit/steps/" in r.url):
        page.locator("#step-paths-branches-0-conditions-1-op").select_option("is_not_empty")
    who.saved()
    with page.expect_response(lambda r: "/edit/steps/" in r.url):
        who.click(card.get_by_role("button", name="Add a path"))
    expect(page.locator("#step-paths-branches-1-name")).to_be_focused()
    expect(page.locator("#step-paths-branches-1-name")).to_have_value("Path 2")
    with page.expect_response(lambda r: "/edit/steps/" in r.url):
        who.click(page.locator("#step-paths-branches-1-steps").get_by_label(re.compile("Step 3")))
    who.saved()
    who.check_axe("2-two-paths")
    recipe.refresh_from_db()
    assert recipe.draft["steps"][0]["config"] == {
        "branches": [
            {
                "name": "urgent",
                "conditions": [
                    {"field": "{{ trigger.priority }}", "op": "equals", "value": "high"},
                    {"field": "{{ trigger.team }}", "op": "is_not_empty"},
                ],
                "steps": ["page_oncall"],
            },
            {"name": "Path 2", "conditions": [], "steps": ["post_note"]},
        ]
    }
    expect(page.locator("#problems")).to_contain_text("Nothing is missing")
    # On a phone the row's parts stack in one column.
    page.set_viewport_size({"width": 390, "height": 800})
    field_box = page.locator("#step-paths-branches-0-conditions-0-field").bounding_box()
    op_box = page.locator("#step-paths-branches-0-conditions-0-op").bounding_box()
    assert op_box["y"] > field_box["y"] + field_box["height"]
    who.check_axe("3-phone")
