"""The templates gallery and "Use this template", against the Slack and Notion fakes: the
form offers only this member's connections and the fakes' real channels and databases,
and the result is a draft with them filled in."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from hub.connections.models import Connection
from hub.recipes.gallery import TEMPLATES, placeholders
from hub.recipes.models import Recipe
from tests.conftest import slack_connection
from tests.notion_helpers import fake_notion  # noqa: F401  (a fixture)

USE = reverse("recipe_template_use", args=["notion_item_to_slack"])


@pytest.fixture
def connected(workspace, fake_slack, fake_notion):  # noqa: F811
    slack = slack_connection(workspace, fake_slack)
    notion = Connection(
        workspace=workspace, integration="notion", label="Acme Notion", shared_with_all=True
    )
    notion.set_tokens(fake_notion.issue_token(), None, None)
    notion.save()
    db_id, _ds = fake_notion.add_database("Launch ideas")
    channel = fake_slack.add_channel("launches")
    return {
        "slack": slack,
        "notion": notion,
        "database": db_id,
        "channel": channel,
        "fake_slack": fake_slack,
    }


def test_gallery_lists_each_usable_template_with_its_apps(member_client):
    page = member_client.get(reverse("recipe_templates")).content.decode()
    usable = [t for t in TEMPLATES if not placeholders.unavailable(t.document)]
    assert page.count("Use this template") == len(usable) >= 1
    assert "New Notion database item → Slack" in page
    assert "Notion</span>" in page and "Slack</span>" in page
    hidden = [t for t in TEMPLATES if placeholders.unavailable(t.document)]
    for template in hidden:
        assert str(template.title) not in page


def test_recipe_list_links_to_the_gallery(member_client):
    page = member_client.get(reverse("recipes")).content.decode()
    assert reverse("recipe_templates") in page


def test_form_asks_only_for_the_connections_and_pickers_the_template_needs(
    member_client, connected, workspace
):
    unshared = slack_connection(workspace, connected["fake_slack"], label="Private Slack")
    unshared.shared_with_all = False
    unshared.save()
    page = member_client.get(USE).content.decode()
    assert "Acme Slack" in page and "Acme Notion" in page
    assert "Private Slack" not in page
    assert 'name="pick.trigger.database"' in page and "Launch ideas" in page
    assert 'name="pick.post.channel"' in page and "launches" in page
    # Nothing else to choose: the message text comes ready.
    form = page[page.index('id="use-template"') : page.index("</form>", page.index("use-template"))]
    assert form.count("<select") == 4


def test_using_a_template_creates_a_draft_with_the_choices_filled(
    member_client, connected, member_user
):
    channel = connected["channel"]
    response = member_client.post(
        USE,
        {
            "connection.slack": connected["slack"].pk,
            "connection.notion": connected["notion"].pk,
            "pick.trigger.database": connected["database"],
            "pick.post.channel": channel,
            "use": "1",
        },
    )
    recipe = Recipe.objects.get()
    assert response.status_code == 302
    assert f"/recipes/{recipe.pk}/" in response["Location"]  # the editor, or its page
    assert recipe.current_version is None and recipe.state == "draft"
    assert recipe.owner == member_user
    trigger = recipe.draft["trigger"]
    assert trigger["connection_id"] == connected["notion"].pk
    assert trigger["config"] == {"database": connected["database"]}
    step = recipe.draft["steps"][0]
    assert step["config"]["channel"] == channel
    assert step["connection"] == "Acme Slack"
    assert step["connection_id"] == connected["slack"].pk
    assert step["config"]["text"] == "New in Notion: {{ trigger.url }}"


def test_a_second_use_gets_a_free_name(member_client, connected):
    for _ in range(2):
        member_client.post(USE, {"use": "1"})
    names = sorted(Recipe.objects.values_list("name", flat=True))
    assert names == ["New Notion database item to Slack", "New Notion database item to Slack (2)"]


def test_without_a_usable_connection_a_member_is_told_to_ask_an_admin(
    member_client, workspace, fake_slack
):
    slack_connection(workspace, fake_slack)
    page = member_client.get(USE).content.decode()
    assert "Ask an admin to connect Notion" in page
    assert reverse("connection_app", args=["notion"]) not in page
    member_client.post(USE, {"use": "1"})
    assert not Recipe.objects.exists()


def test_an_admin_without_the_connection_gets_the_link_to_connect(admin_client):
    page = admin_client.get(USE).content.decode()
    assert reverse("connection_app", args=["notion"]) in page
    assert reverse("connection_app", args=["slack"]) in page


def test_another_workspaces_connections_are_never_offered_or_used(
    client, outsider, connected, other_workspace
):
    client.force_login(outsider)
    page = client.get(USE).content.decode()
    assert "Acme Slack" not in page and "Launch ideas" not in page
    client.post(USE, {"connection.slack": connected["slack"].pk, "use": "1"})
    assert not Recipe.objects.exists()


def test_an_unknown_template_is_not_found(member_client):
    response = member_client.get(reverse("recipe_template_use", args=["no_such_stack"]))
    assert response.status_code == 404


@pytest.fixture
def english_afterwards():
    """A Korean request leaves Korean active in this thread; later tests expect English."""
    yield
    translation.deactivate()


def test_gallery_and_form_in_korean(member_client, connected, english_afterwards):
    korean = {"HTTP_ACCEPT_LANGUAGE": "ko"}
    page = member_client.get(reverse("recipe_templates"), **korean).content.decode()
    assert "레시피 템플릿" in page and "이 템플릿 사용" in page
    assert "새 Notion 데이터베이스 항목 → Slack" in page
    form = member_client.get(USE, **korean).content.decode()
    assert "초안 만들기" in form and "Slack 연결" in form
