"""The recipe editor over HTTP: building a draft card by card, autosave, located problems,
tests of steps (read for real, write previewed, then sent), publishing, and who may edit."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from hub.recipes.models import Recipe, StepSample
from tests.conftest import make_user, slack_connection

pytestmark = pytest.mark.django_db


def new_recipe(client) -> Recipe:
    response = client.post(reverse("recipe_new"))
    assert response.status_code == 302
    return Recipe.objects.latest("pk")


def add_step(client, recipe, position=10) -> str:
    client.post(reverse("editor_add_step", args=[recipe.pk]), {"position": position})
    recipe.refresh_from_db()
    return recipe.draft["steps"][min(position, len(recipe.draft["steps"]) - 1)]["key"]


def save(client, recipe, key, data):
    return client.post(reverse("editor_step", args=[recipe.pk, key]), data)


def test_new_recipe_opens_the_editor_with_a_run_now_trigger(admin_client, workspace):
    response = admin_client.post(reverse("recipe_new"))
    recipe = Recipe.objects.get(workspace=workspace)
    assert response["Location"] == reverse("editor", args=[recipe.pk])
    assert recipe.name == "Untitled recipe" and recipe.state == Recipe.State.DRAFT
    html = admin_client.get(response["Location"]).content.decode()
    assert "When someone clicks Run now" in html
    assert "Add a step" in html


def test_a_step_is_built_app_then_action_then_fields(admin_client, workspace, fake_slack):
    connection = slack_connection(workspace, fake_slack)
    recipe = new_recipe(admin_client)
    key = add_step(admin_client, recipe)
    html = save(admin_client, recipe, key, {"app": "slack"}).content.decode()
    assert "What should it do?" in html and "Send a message" in html
    html = save(
        admin_client, recipe, key, {"app": "slack", "action": "send_message"}
    ).content.decode()
    recipe.refresh_from_db()
    step = recipe.draft["steps"][0]
    # The step is named after what it does, and the only usable connection is chosen.
    assert step["key"] == "send_message"
    assert step["connection_id"] == connection.pk
    assert 'name="config.channel"' in html and 'name="config.text"' in html
    assert "/recipes/choices/?app=slack" in html
    response = save(
        admin_client,
        recipe,
        "send_message",
        {"app": "slack", "action": "send_message", "config.channel": "C1", "config.text": "Hi"},
    )
    # A plain edit answers with the save state only: the card stays as the member typed it.
    assert response["HX-Reswap"] == "none"
    assert "Saved" in response.content.decode()
    recipe.refresh_from_db()
    assert recipe.draft["steps"][0]["config"] == {"channel": "C1", "text": "Hi"}


def test_an_empty_required_field_is_a_located_problem_that_links_to_it(
    admin_client, workspace, fake_slack
):
    slack_connection(workspace, fake_slack)
    recipe = new_recipe(admin_client)
    key = add_step(admin_client, recipe)
    save(admin_client, recipe, key, {"app": "slack", "action": "send_message"})
    response = admin_client.post(reverse("editor_publish", args=[recipe.pk]))
    html = response.content.decode()
    assert "Step 1 · Slack · “Channel” is required." in html
    assert 'href="#step-send_message-text"' in html
    recipe.refresh_from_db()
    assert recipe.current_version is None
    save(
        admin_client,
        recipe,
        "send_message",
        {
            "app": "slack",
            "action": "send_message",
            "config.channel": fake_slack.general,
            "config.text": "Hi",
        },
    )
    html = admin_client.post(reverse("editor_publish", args=[recipe.pk])).content.decode()
    assert "Published version 1" in html
    recipe.refresh_from_db()
    assert recipe.state == Recipe.State.ACTIVE


def slack_message_step(client, workspace, fake_slack, **posted) -> tuple[Recipe, str]:
    """A draft with one Slack "send a message" step to #general saying "Hello {{ run.recipe
    }}"; returns the recipe and the step's Test URL."""
    slack_connection(workspace, fake_slack)
    recipe = new_recipe(client)
    key = add_step(client, recipe)
    save(client, recipe, key, {"app": "slack", "action": "send_message"})
    fields = {
        "app": "slack",
        "action": "send_message",
        "config.channel": fake_slack.general,
        "config.text": "Hello {{ run.recipe }}",
    }
    save(client, recipe, "send_message", {**fields, **posted})
    return recipe, reverse("editor_test_step", args=[recipe.pk, "send_message"])


def test_a_write_steps_preview_says_what_it_would_send_in_the_forms_words(
    admin_client, workspace, fake_slack
):
    _recipe, url = slack_message_step(
        admin_client,
        workspace,
        fake_slack,
        **{"label.config.channel": json.dumps({fake_slack.general: "#general"})},
    )
    html = admin_client.post(url).content.decode()
    summary = html[html.index('class="data preview-summary"') : html.index("preview-exact")]
    assert "<dt>Channel</dt><dd>#general</dd>" in summary  # the channel by its name
    assert "<dd>Hello Untitled recipe</dd>" in summary  # the message after mapping
    assert fake_slack.general not in summary
    assert "Exactly what goes to Slack" in html and "chat.postMessage" in html
    assert fake_slack.messages[fake_slack.general] == []


def test_testing_a_write_step_previews_then_sends_for_real(admin_client, workspace, fake_slack):
    recipe, url = slack_message_step(admin_client, workspace, fake_slack)
    html = admin_client.post(url).content.decode()
    assert "Nothing was sent" in html
    assert "Hello Untitled recipe" in html  # the text after mapping
    assert fake_slack.messages[fake_slack.general] == []
    html = admin_client.post(url, {"send": "1"}).content.decode()
    assert "Sent. The app answered" in html
    assert [m["text"] for m in fake_slack.messages[fake_slack.general]] == ["Hello Untitled recipe"]
    sample = StepSample.objects.get(recipe=recipe, step_key="send_message")
    assert sample.output["text"] == "Hello Untitled recipe"


def test_members_edit_their_own_recipes_and_admins_all(client, workspace, admin_user):
    owner = make_user("mia@acme.test", workspace, "member")
    other = make_user("max@acme.test", workspace, "member")
    client.force_login(owner)
    recipe = new_recipe(client)
    assert client.get(reverse("editor", args=[recipe.pk])).status_code == 200
    client.force_login(other)
    response = client.get(reverse("editor", args=[recipe.pk]))
    assert response.status_code == 403
    assert "an admin can edit it." in response.content.decode()
    assert client.post(reverse("editor_add_step", args=[recipe.pk])).status_code == 403
    client.force_login(admin_user)
    assert client.get(reverse("editor", args=[recipe.pk])).status_code == 200


def test_another_workspaces_recipe_is_not_found_at_any_editor_address(
    client, workspace, admin_user, outsider
):
    client.force_login(admin_user)
    recipe = new_recipe(client)
    key = add_step(client, recipe)
    client.force_login(outsider)
    gets = [reverse("editor", args=[recipe.pk]), reverse("editor_versions", args=[recipe.pk])]
    gets.append(reverse("editor_data", args=[recipe.pk]))
    gets.append(reverse("editor_test_trigger_wait", args=[recipe.pk]) + "?since=2026-01-01T00:00Z")
    posts = [
        reverse("editor_name", args=[recipe.pk]),
        reverse("editor_trigger", args=[recipe.pk]),
        reverse("editor_test_trigger", args=[recipe.pk]),
        reverse("editor_publish", args=[recipe.pk]),
        reverse("editor_add_step", args=[recipe.pk]),
        reverse("editor_step", args=[recipe.pk, key]),
        reverse("editor_test_step", args=[recipe.pk, key]),
        reverse("editor_move_step", args=[recipe.pk, key]),
        reverse("editor_duplicate_step", args=[recipe.pk, key]),
        reverse("editor_delete_step", args=[recipe.pk, key]),
        reverse("editor_restore", args=[recipe.pk, 1]),
    ]
    assert {client.get(url).status_code for url in gets} == {404}
    assert {client.post(url).status_code for url in posts} == {404}
    recipe.refresh_from_db()
    assert len(recipe.draft["steps"]) == 1


def test_moving_a_step_keeps_its_key_and_a_reference_to_a_later_step_is_flagged(
    admin_client, workspace
):
    recipe = new_recipe(admin_client)
    first = add_step(admin_client, recipe)
    save(admin_client, recipe, first, {"app": "builtin", "action": "formatter"})
    save(
        admin_client,
        recipe,
        "formatter",
        {
            "app": "builtin",
            "action": "formatter",
            "config.operation": "text_upper",
            "config.input": "hi",
        },
    )
    second = add_step(admin_client, recipe)
    save(admin_client, recipe, second, {"app": "builtin", "action": "formatter"})
    save(
        admin_client,
        recipe,
        "formatter_2",
        {
            "app": "builtin",
            "action": "formatter",
            "config.operation": "text_lower",
            "config.input": "{{ steps.formatter.output }}",
        },
    )
    html = admin_client.post(reverse("editor_publish", args=[recipe.pk])).content.decode()
    assert "Published version 1" in html
    admin_client.post(
        reverse("editor_move_step", args=[recipe.pk, "formatter_2"]), {"direction": "up"}
    )
    recipe.refresh_from_db()
    assert [s["key"] for s in recipe.draft["steps"]] == ["formatter_2", "formatter"]
    html = admin_client.post(reverse("editor_publish", args=[recipe.pk])).content.decode()
    assert "Step 1 · Built-in tools ·" in html
    assert "runs after this step" in html
    admin_client.post(
        reverse("editor_move_step", args=[recipe.pk, "formatter"]), {"direction": "up"}
    )
    html = admin_client.post(reverse("editor_publish", args=[recipe.pk])).content.decode()
    assert "Published version 2" in html


def test_duplicate_and_delete(admin_client, workspace):
    recipe = new_recipe(admin_client)
    key = add_step(admin_client, recipe)
    save(admin_client, recipe, key, {"app": "builtin", "action": "formatter"})
    admin_client.post(reverse("editor_duplicate_step", args=[recipe.pk, "formatter"]))
    recipe.refresh_from_db()
    assert [s["key"] for s in recipe.draft["steps"]] == ["formatter", "formatter_2"]
    admin_client.post(reverse("editor_delete_step", args=[recipe.pk, "formatter"]))
    recipe.refresh_from_db()
    assert [s["key"] for s in recipe.draft["steps"]] == ["formatter_2"]


def test_versions_describe_changes_and_restore_into_the_draft(admin_client, workspace):
    recipe = new_recipe(admin_client)
    key = add_step(admin_client, recipe)
    save(admin_client, recipe, key, {"app": "builtin", "action": "formatter"})
    form = {"app": "builtin", "action": "formatter", "config.operation": "text_upper"}
    save(admin_client, recipe, "formatter", {**form, "config.input": "one"})
    admin_client.post(reverse("editor_publish", args=[recipe.pk]))
    save(admin_client, recipe, "formatter", {**form, "config.input": "two"})
    add_step(admin_client, recipe)
    recipe.refresh_from_db()
    save(admin_client, recipe, recipe.draft["steps"][1]["key"], form)
    save(admin_client, recipe, "formatter_2", {**form, "config.input": "three"})
    assert (
        "Published version 2"
        in admin_client.post(reverse("editor_publish", args=[recipe.pk])).content.decode()
    )
    html = admin_client.get(reverse("editor_versions", args=[recipe.pk])).content.decode()
    assert "Step 1 · Built-in tools · “Value” changed" in html
    assert "Step 2 added (Built-in tools)" in html
    assert "First version" in html
    response = admin_client.post(reverse("editor_restore", args=[recipe.pk, 1]))
    assert response.status_code == 302
    recipe.refresh_from_db()
    assert [s["config"].get("input") for s in recipe.draft["steps"]] == ["one"]
    assert recipe.current_version.number == 2  # the live version keeps running


def test_a_schedule_trigger_is_chosen_and_tested(admin_client, workspace):
    recipe = new_recipe(admin_client)
    url = reverse("editor_trigger", args=[recipe.pk])
    admin_client.post(url, {"change": "app"})
    html = admin_client.post(url, {"app": "schedule"}).content.decode()
    assert "Every day" in html and "Every week" in html
    html = admin_client.post(url, {"app": "schedule", "event": "daily"}).content.decode()
    assert 'list="timezones"' in html
    admin_client.post(
        url,
        {
            "app": "schedule",
            "event": "daily",
            "config.at": "09:00",
            "config.timezone": "Asia/Seoul",
        },
    )
    recipe.refresh_from_db()
    assert recipe.draft["trigger"] == {
        "app": "schedule",
        "event": "daily",
        "config": {"at": "09:00", "timezone": "Asia/Seoul"},
    }
    html = admin_client.post(reverse("editor_test_trigger", args=[recipe.pk])).content.decode()
    assert "It will run next at:" in html and "09:00 (Asia/Seoul)" in html
    assert (
        StepSample.objects.get(recipe=recipe, step_key="trigger").output["timezone"] == "Asia/Seoul"
    )
