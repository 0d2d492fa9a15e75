"""Journey 8: a person who has never seen the hub builds "new Notion database item → Slack
message" from the Recipes page, reading only what the screens say: the trigger, the
database from a list, a test that finds the real row, a message made of the row's values by
Insert data, a preview, publish. Screenshots at every step (docs/new-user-try.md)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from hub.recipes.models import Recipe
from tests.browser.conftest import sign_in
from tests.browser.editor_kit import Person, connect
from tests.conftest import PASSWORD
from tests.notion_helpers import fake_notion  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db(transaction=True)

# Clicks, choices and typed values of the whole build; kept so it only ever goes down.
INTERACTIONS = 18


def test_a_new_user_builds_notion_to_slack_from_what_the_screens_say(
    page,
    live_server,
    workspace,
    member_user,
    fake_slack,
    fake_notion,  # noqa: F811
    screenshot,
):
    # Generous: the journey's machine is often shared and loaded.
    page.set_default_timeout(45_000)
    connect(workspace, "slack", "Acme Slack", fake_slack.issue_token())
    connect(workspace, "notion", "Acme Notion", fake_notion.issue_token())
    _database, source = fake_notion.add_database(
        "Launch ideas", {"Name": "title", "Owner": "rich_text"}
    )
    fake_notion.add_page(
        source,
        "Dark mode",
        {"Owner": {"rich_text": [{"text": {"content": "Mina"}}]}},
    )
    launches = fake_slack.add_channel("product-launches")

    sign_in(page, live_server, member_user.email, PASSWORD)
    who = Person(page, screenshot)
    screenshot("01-home")
    who.click(page.get_by_role("navigation", name="Main").get_by_role("link", name="Recipes"))
    # The apps are connected already: the empty list does not send them to Connections.
    expect(page.get_by_text("Your apps are connected.")).to_be_visible()
    screenshot("02-recipes")
    who.click(page.get_by_role("button", name="New recipe"))
    page.wait_for_url(re.compile(r"/recipes/\d+/edit/$"))
    # A new recipe starts by hand; the card says it can start by itself, and how.
    expect(page.locator("#trigger")).to_contain_text("can also start by itself")
    expect(page.locator("#publish-panel")).to_contain_text("It has no steps yet")
    who.check_axe("03-editor")
    who.fill(page.get_by_label("Recipe name"), "Launch ideas to Slack")

    who.click(page.get_by_role("button", name="Change the trigger"))
    screenshot("04-trigger-apps")
    who.click(page.get_by_role("button", name="Notion"))
    # Before "when" is chosen the problem is said in words, not as the file's keys.
    expect(page.locator("#problems")).to_contain_text("Choose when the recipe should start.")
    expect(page.locator("#problems")).not_to_contain_text("None")
    screenshot("05-trigger-events")
    who.click(page.get_by_role("button", name="New row in a database"))
    expect(page.locator("#trigger-database option", has_text="Launch ideas")).to_have_count(1)
    who.check_axe("06-trigger-fields")
    who.choose(page.locator("#trigger-database"), "Launch ideas")
    who.click(page.get_by_role("button", name="Test trigger"))
    expect(page.locator("#trigger-result")).to_contain_text("Dark mode")
    screenshot("07-trigger-tested")

    who.click(page.get_by_role("button", name="Add a step"))
    screenshot("08-step-apps")
    who.click(page.get_by_role("button", name="Slack"))
    who.click(page.get_by_role("button", name="Send a message", exact=True))
    who.choose(page.locator("#step-send_message-channel"), "product-launches")
    who.check_axe("09-step-fields")
    who.click(page.locator('[data-insert-for="step-send_message-text"]'))
    panel = page.locator("#step-send_message-insert")
    name = panel.locator(".insert-item", has_text="Trigger · Name")
    expect(name).to_contain_text("Dark mode")  # the tested row's value, by its label
    # The trigger was tested: the list does not ask for a test any more.
    expect(panel.locator(".insert-hint")).to_have_count(0)
    who.check_axe("10-insert-data")
    with page.expect_response(lambda r: "/edit/steps/" in r.url):
        who.click(name)
    who.saved()
    expect(page.locator('[data-chips-for="step-send_message-text"] .chip')).to_have_text(
        "Trigger · Name"
    )
    who.click(page.locator("#step-send_message-test"))
    expect(page.locator("#step-send_message-result")).to_contain_text("Dark mode")
    who.check_axe("11-preview")
    # The preview speaks the form's words: the channel by its name, the message as mapped.
    summary = page.locator("#step-send_message-result .preview-summary")
    expect(summary).to_contain_text("#product-launches")
    expect(summary).to_contain_text("Dark mode")
    assert fake_slack.messages[launches] == []  # a preview sends nothing
    who.click(page.get_by_role("button", name="Send for real…"))
    who.click(page.get_by_role("button", name="Yes, send it for real"))
    expect(page.locator("#step-send_message-result")).to_contain_text("Sent. The app answered")
    assert [m["text"] for m in fake_slack.messages[launches]] == ["Dark mode"]

    who.click(page.get_by_role("button", name="Publish and turn on"))
    expect(page.locator("#publish-panel")).to_contain_text("Published version 1")
    who.check_axe("12-published")
    recipe = Recipe.objects.get()
    assert recipe.name == "Launch ideas to Slack" and recipe.state == Recipe.State.ACTIVE
    assert recipe.current_version.document["trigger"]["config"]["database"]
    assert who.count == INTERACTIONS
