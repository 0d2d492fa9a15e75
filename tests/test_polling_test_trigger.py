"""Test trigger on a recipe's page: the newest real items through the poll's own call, the
cursor left where it was, and only for members who may use the trigger's connection."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from hub.engine.models import Run, TriggerState
from tests.test_polling import gmail_recipe, important, poll

pytestmark = pytest.mark.django_db


@pytest.fixture
def google(settings):
    from tests.fakes.gmail import FakeGoogle

    with FakeGoogle() as fake:
        for key, value in fake.settings().items():
            setattr(settings, key, value)
        yield fake


@pytest.fixture
def mailbox(workspace, google):
    from hub.connections.models import Connection

    connection = Connection(workspace=workspace, integration="gmail", label="Sales Gmail")
    connection.set_tokens(google.issue_token(), None, None)
    connection.save()
    return connection


def test_it_returns_the_newest_real_items_and_leaves_the_cursor(
    workspace, mailbox, google, admin_client
):
    recipe = gmail_recipe(workspace)
    poll(recipe)
    state = TriggerState.objects.get(recipe=recipe)
    before = (state.cursor, state.seen_ids, state.next_fire_at)
    for n in range(4):
        important(google, f"Report {n}", body=f"Body {n}")
    google.deliver("me@acme.test", subject="Draft", labels=("DRAFT", "IMPORTANT"))
    response = admin_client.post(
        f"/recipes/{recipe.pk}/trigger/test/", HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert [i["data"]["subject"] for i in body["items"]] == ["Report 3", "Report 2", "Report 1"]
    assert {"key": "body_clean", "label": "New text only"} in body["fields"]
    state.refresh_from_db()
    assert (state.cursor, state.seen_ids, state.next_fire_at) == before
    assert Run.objects.filter(recipe=recipe).count() == 0
    # The items are still new to the poll: they fire once, as they would have.
    assert poll(recipe) == "fired 4"


def test_the_page_button_shows_labelled_values(workspace, mailbox, google, admin_client):
    recipe = gmail_recipe(workspace)
    important(google, "Quarterly plan", body="Numbers attached.")
    page = admin_client.get(f"/recipes/{recipe.pk}/").content.decode()
    assert "Gmail · New email" in page
    assert "Checks Gmail for new items every 1 minute." in page
    assert f'action="/recipes/{recipe.pk}/trigger/test/"' in page
    html = admin_client.post(f"/recipes/{recipe.pk}/trigger/test/", HTTP_HX_REQUEST="true")
    text = html.content.decode()
    assert "<dt>Subject</dt><dd>Quarterly plan</dd>" in text
    assert "<html" not in text  # a fragment for the page to swap in


def test_an_unsaved_trigger_from_the_editor_is_tested(workspace, mailbox, google, admin_client):
    recipe = gmail_recipe(workspace)
    important(google, "Important one")
    google.deliver("boss@acme.test", subject="From the boss, not important")
    trigger = {
        "app": "gmail",
        "event": "new_email",
        "connection": "Sales Gmail",
        "config": {"query": "from:boss@acme.test -is:important"},
    }
    response = admin_client.post(
        f"/recipes/{recipe.pk}/trigger/test/",
        data=json.dumps({"trigger": trigger}),
        content_type="application/json",
    )
    items = response.json()["items"]
    assert [i["data"]["subject"] for i in items] == ["From the boss, not important"]


def test_a_member_without_the_connection_is_refused(workspace, mailbox, google, member_user):
    recipe = gmail_recipe(workspace)
    mailbox.shared_with_all = False
    mailbox.save()
    member = Client()
    member.force_login(member_user)
    response = member.post(f"/recipes/{recipe.pk}/trigger/test/", HTTP_ACCEPT="application/json")
    assert response.status_code == 403
    assert "share “Sales Gmail” with you" in response.json()["error"]
    assert google.calls("messages.list") == []


def test_another_workspaces_recipe_is_a_404(workspace, mailbox, google, outsider):
    recipe = gmail_recipe(workspace)
    client = Client()
    client.force_login(outsider)
    assert client.post(f"/recipes/{recipe.pk}/trigger/test/").status_code == 404
    assert google.calls("messages.list") == []


def test_an_app_error_is_said_plainly(workspace, mailbox, google, admin_client):
    recipe = gmail_recipe(workspace)
    google.fail_next("messages.list", status=503)
    body = admin_client.post(
        f"/recipes/{recipe.pk}/trigger/test/", HTTP_ACCEPT="application/json"
    ).json()
    assert body["ok"] is False and "Gmail is busy" in body["error"]
