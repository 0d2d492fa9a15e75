"""Test trigger for an instant trigger the app cannot be asked about (a Slack reaction):
the newest events that reached the recipe, on the recipe page and in the editor alike."""

from __future__ import annotations

import pytest

from tests.test_slack_events import connect, post, recipe_on

pytestmark = pytest.mark.django_db


@pytest.fixture
def slack(workspace, fake_slack):
    connect(workspace, fake_slack)
    return fake_slack


def react(slack, client, emoji, n):
    event = {
        "type": "reaction_added",
        "user": slack.installer_id,
        "reaction": emoji,
        "item_user": "U0GRACE",
        "item": {"type": "message", "channel": slack.general, "ts": f"1767225600.00010{n}"},
    }
    body, headers = slack.event_request(event, event_id=f"Ev-react-{n}")
    assert post(client, body, headers).status_code == 200


def test_a_reaction_trigger_shows_the_newest_reactions_received(
    client, admin_client, workspace, slack
):
    recipe = recipe_on(workspace, event="reaction_added", name="Reactions")
    url = f"/recipes/{recipe.pk}/trigger/test/"
    empty = admin_client.post(url, HTTP_ACCEPT="application/json").json()
    assert empty["ok"] and empty["items"] == []
    for n, emoji in enumerate(["eyes", "tada", "white_check_mark", "rocket"]):
        react(slack, client, emoji, n)
    answer = admin_client.post(url, HTTP_ACCEPT="application/json").json()
    assert [item["data"]["emoji"] for item in answer["items"]] == [
        "rocket",
        "white_check_mark",
        "tada",
    ]
    assert "emoji" in {field["key"] for field in answer["fields"]}
