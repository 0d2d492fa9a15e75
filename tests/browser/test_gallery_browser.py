"""Browser journey 2: a member uses a template. From the recipe list to the gallery, "Use
this template" on "New Notion database item → Slack", the database and channel chosen from
the fakes (the channel found by typing in its search box), and the editor opened on a draft
with nothing missing, with axe-core checking each page."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from hub.connections.models import Connection
from hub.recipes.models import Recipe
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD, slack_connection
from tests.notion_helpers import fake_notion  # noqa: F401  (a fixture)

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"


def serious_violations(page) -> list:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        (v["id"], [n["target"] for n in v["nodes"]][:3])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.django_db(transaction=True)
def test_a_member_uses_a_template_and_gets_a_ready_draft(
    live_server,
    workspace,
    member_user,
    fake_slack,
    fake_notion,  # noqa: F811
    page,
    screenshot,
):
    page.set_default_timeout(30_000)
    slack_connection(workspace, fake_slack)
    for n in range(30):
        fake_slack.add_channel(f"team-{n:02d}")
    launches = fake_slack.add_channel("product-launches")
    notion = Connection(
        workspace=workspace, integration="notion", label="Acme Notion", shared_with_all=True
    )
    notion.set_tokens(fake_notion.issue_token(), None, None)
    notion.save()
    database, _source = fake_notion.add_database("Launch ideas")

    sign_in(page, live_server, member_user.email, PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Recipes").click()
    page.get_by_role("link", name="Start from a template").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Recipe templates")
    screenshot("1-gallery")
    assert serious_violations(page) == []

    card = page.get_by_role("listitem").filter(has_text="New Notion database item → Slack")
    expect(card.get_by_text("Notion", exact=True)).to_be_visible()
    card.get_by_role("link", name="Use this template").click()
    expect(page.get_by_label("Slack connection")).to_have_value(str(slack_connection_pk()))
    page.get_by_label("Database", exact=True).select_option(label="Launch ideas")
    screenshot("2-form")
    search = page.get_by_label("Search Channel")
    search.fill("launch")
    channel = page.get_by_label("Channel", exact=True)
    expect(channel.locator("option")).to_have_count(2)  # "Choose…" and the one found
    channel.select_option(value=launches)
    screenshot("3-choices")
    assert serious_violations(page) == []

    page.get_by_role("button", name="Create the draft").click()
    page.wait_for_url(f"{live_server.url}/recipes/*/edit/")
    expect(page.get_by_text("Nothing is missing")).to_be_visible()
    screenshot("4-draft")
    assert serious_violations(page) == []
    recipe = Recipe.objects.get()
    assert recipe.state == "draft" and recipe.current_version is None
    assert recipe.draft["steps"][0]["config"]["channel"] == launches
    assert recipe.draft["trigger"]["app"] == "notion"
    assert str(recipe.pk) in page.url
    assert database  # the Notion database the member chose from the fake
    assert not fake_slack.messages[launches], "nothing is sent before publishing"


def slack_connection_pk() -> int:
    return Connection.objects.get(integration="slack").pk
