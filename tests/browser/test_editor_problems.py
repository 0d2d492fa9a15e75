"""Journey 3: a required field left empty blocks publishing with a located problem; its link
focuses the field, and filling it in clears the problem."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from hub.recipes import drafts
from hub.recipes.models import Recipe
from tests.browser.conftest import sign_in
from tests.browser.editor_kit import Person
from tests.conftest import PASSWORD, slack_connection

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_empty_required_field_blocks_publish_until_it_is_filled(
    page, live_server, workspace, admin_user, fake_slack, screenshot
):
    page.set_default_timeout(30_000)
    connection = slack_connection(workspace, fake_slack)
    recipe = drafts.new_recipe(workspace, admin_user, "Tell the team")
    recipe, key = drafts.add_step(recipe, 0)
    drafts.save_step(
        recipe,
        key,
        {
            "app": "slack",
            "action": "send_message",
            "connection": connection.label,
            "connection_id": connection.pk,
            "config": {"channel": fake_slack.general},
        },
    )
    sign_in(page, live_server, admin_user.email, PASSWORD)
    page.goto(f"{live_server.url}/recipes/{recipe.pk}/edit/")
    who = Person(page, screenshot)
    problem = page.get_by_role("link", name="Step 1 · Slack · “Message” is required.")
    expect(problem).to_be_visible()
    who.click(page.get_by_role("button", name="Publish and turn on"))
    expect(page.locator("#problems-heading")).to_be_focused()
    who.check_axe("1-blocked")
    assert Recipe.objects.get(pk=recipe.pk).current_version is None

    who.click(page.get_by_role("link", name="Step 1 · Slack · “Message” is required."))
    field = page.get_by_role("textbox", name="Message")
    expect(field).to_be_focused()
    who.fill(field, "Standup in five minutes")
    expect(page.locator("#problems")).to_contain_text("Nothing is missing")
    expect(page.get_by_text("“Message” is required.")).to_have_count(0)
    who.click(page.get_by_role("button", name="Publish and turn on"))
    expect(page.locator("#publish-panel")).to_contain_text("Published version 1")
    who.check_axe("2-published")
    assert Recipe.objects.get(pk=recipe.pk).current_version.number == 1
    # On a phone the editor is one column, nothing wider than the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    who.check_axe("3-phone")
