"""Slack's Events API at /apps/slack/events: signed, deduped, routed by team to every recipe
whose trigger the event fires, each run inserted before the 200."""

from __future__ import annotations

import itertools
import json
import time

import pytest

from hub.connections.models import Connection, OAuthApp
from hub.engine.executor import execute
from hub.engine.models import DedupeKey, Run
from hub.recipes.models import Recipe
from hub.recipes.services import set_paused
from tests.conftest import make_recipe, slack_connection, slack_step

URL = "/apps/slack/events"
_TS = itertools.count(1)


def connect(workspace, fake, label="Acme Slack"):
    connection = slack_connection(workspace, fake, label)
    connection.external_id = fake.team["id"]
    connection.details = {"team_id": fake.team["id"], "bot_user_id": fake.bot_user_id}
    connection.save()
    return connection


def recipe_on(workspace, event="new_message", name="Support watcher", label="Acme Slack", **config):
    trigger = {"app": "slack", "event": event, "connection": label, "config": config}
    seen = "{{ trigger.emoji }}" if event == "reaction_added" else "{{ trigger.text }}"
    step = slack_step("{{ trigger.channel }}", text=f"Seen: {seen}")
    step["connection"] = label
    return make_recipe(workspace, [step], trigger=trigger, name=name)


def post(client, body: bytes, headers: dict):
    return client.post(URL, data=body, content_type="application/json", headers=headers)


def message(fake, text="Help, the invoices page is down", **extra):
    return {
        "type": "message",
        "channel": fake.general,
        "user": fake.installer_id,
        "text": text,
        "ts": f"{int(time.time())}.{next(_TS):06d}",
        "channel_type": "channel",
        **extra,
    }


@pytest.fixture
def slack(workspace, fake_slack):
    connect(workspace, fake_slack)
    return fake_slack


def test_url_verification_answers_the_challenge(client, slack):
    body, headers = slack.url_verification_request(
        "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    )
    answer = post(client, body, headers)
    assert answer.status_code == 200
    assert answer.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


def test_a_message_starts_one_run_with_the_message_and_the_run_posts(client, workspace, slack):
    recipe = recipe_on(workspace, channel=slack.general)
    event = message(slack)
    body, headers = slack.event_request(event, event_id="Ev0001")
    answer = post(client, body, headers)
    assert answer.status_code == 200
    [run] = Run.objects.filter(recipe=recipe)
    assert answer.json() == {"ok": True, "runs": [run.pk]}
    assert run.source == Run.Source.APP
    assert run.dedupe_key == f"trigger:{recipe.pk}:{slack.general}:{event['ts']}"
    assert run.trigger_data["text"] == "Help, the invoices page is down"
    assert run.trigger_data["channel"] == slack.general
    assert run.trigger_data["is_reply"] is False
    assert execute(run.id) == "succeeded"
    assert slack.messages[slack.general][-1]["text"] == "Seen: Help, the invoices page is down"


def test_retries_of_one_event_start_one_run(client, workspace, slack):
    recipe = recipe_on(workspace, channel=slack.general)
    event = message(slack)
    for retry in (None, 1, 2):
        body, headers = slack.event_request(event, event_id="Ev0002", retry_num=retry)
        assert post(client, body, headers).status_code == 200
    assert Run.objects.filter(recipe=recipe).count() == 1
    assert (
        DedupeKey.objects.filter(key=f"trigger:{recipe.pk}:{slack.general}:{event['ts']}").count()
        == 1
    )


def test_a_tampered_body_is_refused_and_nothing_is_stored(client, workspace, slack):
    recipe_on(workspace, channel=slack.general)
    body, headers = slack.event_request(message(slack), event_id="Ev0003")
    tampered = body.replace(b"invoices", b"payments")
    answer = post(client, tampered, headers)
    assert answer.status_code == 401
    assert "signature does not match" in answer.json()["error"]
    assert not Run.objects.exists()


def test_a_signature_with_another_secret_is_refused(client, workspace, slack, settings):
    recipe_on(workspace, channel=slack.general)
    settings.SLACK_SIGNING_SECRET = "another-apps-secret"
    body, headers = slack.event_request(message(slack))
    assert post(client, body, headers).status_code == 401
    assert not Run.objects.exists()


def test_a_stale_timestamp_is_refused(client, workspace, slack):
    recipe_on(workspace, channel=slack.general)
    old = int(time.time()) - 6 * 60
    body, headers = slack.event_request(message(slack), timestamp=old)
    answer = post(client, body, headers)
    assert answer.status_code == 401
    assert "more than five minutes old" in answer.json()["error"]
    assert not Run.objects.exists()


def test_a_replayed_request_starts_nothing_more(client, workspace, slack):
    recipe = recipe_on(workspace, channel=slack.general)
    body, headers = slack.event_request(message(slack), event_id="Ev0004")
    assert post(client, body, headers).json()["runs"]
    replay = post(client, body, headers)
    assert replay.status_code == 200 and replay.json()["runs"] == []
    assert Run.objects.filter(recipe=recipe).count() == 1


def test_unsigned_and_unconfigured_requests_are_refused(client, workspace, slack, settings):
    body, headers = slack.event_request(message(slack))
    assert post(client, body, {"Content-Type": "application/json"}).status_code == 401
    settings.SLACK_SIGNING_SECRET = ""
    answer = post(client, body, headers)
    assert answer.status_code == 401
    assert "signing secret" in answer.json()["error"]


def test_an_admin_entered_signing_secret_is_accepted_and_kept_encrypted(
    client, workspace, slack, settings
):
    settings.SLACK_SIGNING_SECRET = ""
    OAuthApp.objects.create(
        workspace=None,
        integration="slack",
        client_id="x",
        client_secret="y",
        signing_secret=slack.signing_secret,
    )
    from django.db import connection as db

    with db.cursor() as cursor:
        cursor.execute("SELECT signing_secret FROM connections_oauthapp")
        [(stored,)] = cursor.fetchall()
    assert slack.signing_secret not in stored
    recipe = recipe_on(workspace, channel=slack.general)
    body, headers = slack.event_request(message(slack))
    assert post(client, body, headers).status_code == 200
    assert Run.objects.filter(recipe=recipe).count() == 1


def test_an_unknown_team_is_404_and_nothing_is_stored(client, workspace, slack):
    recipe_on(workspace, channel=slack.general)
    slack.team["id"] = "T0SOMEONEELSE"
    body, headers = slack.event_request(message(slack))
    answer = post(client, body, headers)
    assert answer.status_code == 404
    assert "Slack workspace" in answer.json()["error"]
    assert not Run.objects.exists() and not DedupeKey.objects.exists()


def test_an_oversized_body_is_refused_before_anything(client, workspace, slack, settings):
    settings.ENGINE_WEBHOOK_MAX_BYTES = 2048
    recipe_on(workspace, channel=slack.general)
    body, headers = slack.event_request(message(slack, text="x" * 4000))
    assert post(client, body, headers).status_code == 413
    assert not Run.objects.exists()


def test_many_recipes_in_many_workspaces_share_one_slack_app(
    client, workspace, other_workspace, slack
):
    connect(other_workspace, slack, label="Their Slack")
    here = recipe_on(workspace, channel=slack.general, name="Here")
    also = recipe_on(workspace, name="Mentions", event="app_mentioned")
    there = recipe_on(other_workspace, channel=slack.general, name="There", label="Their Slack")
    elsewhere = recipe_on(workspace, channel=slack.add_channel("random"), name="Random")
    paused = recipe_on(workspace, channel=slack.general, name="Paused")
    set_paused(paused, True)
    body, headers = slack.event_request(message(slack), event_id="Ev0005")
    answer = post(client, body, headers)
    assert answer.status_code == 200 and len(answer.json()["runs"]) == 2
    fired = set(Run.objects.values_list("recipe_id", flat=True))
    assert fired == {here.pk, there.pk}
    assert {r.workspace_id for r in Run.objects.all()} == {workspace.pk, other_workspace.pk}
    assert also.pk not in fired and elsewhere.pk not in fired and paused.pk not in fired


def test_ignore_bots_top_level_only_and_the_hubs_own_messages(client, workspace, slack):
    picky = recipe_on(workspace, channel=slack.general, ignore_bots=True, top_level_only=True)
    every = recipe_on(workspace, channel=slack.general, name="Everything")
    events = {
        "bot": message(slack, bot_id="B0OTHERBOT", user="U0OTHERBOT"),
        "reply": message(slack, thread_ts="1700000000.000100"),
        "edit": message(slack, subtype="message_changed"),
        "own": message(slack, user=slack.bot_user_id, bot_id=slack.bot_id),
        "plain": message(slack),
    }
    for name, event in events.items():
        body, headers = slack.event_request(event, event_id=f"Ev-{name}")
        assert post(client, body, headers).status_code == 200
    name_of = {e["ts"]: name for name, e in events.items()}
    keys = lambda recipe: sorted(  # noqa: E731
        "Ev-" + name_of[r.trigger_data["ts"]] for r in Run.objects.filter(recipe=recipe)
    )
    assert keys(picky) == ["Ev-plain"]
    assert keys(every) == ["Ev-bot", "Ev-plain", "Ev-reply"]


def test_mentions_and_reactions(client, workspace, slack):
    mentions = recipe_on(workspace, event="app_mentioned", name="Mentions")
    done = recipe_on(workspace, event="reaction_added", name="Done", emoji=":white_check_mark:")
    mention = {
        "type": "app_mention",
        "user": slack.installer_id,
        "text": f"<@{slack.bot_user_id}> summarise please",
        "ts": "1767225600.000200",
        "channel": slack.general,
    }
    reactions = [
        {
            "type": "reaction_added",
            "user": slack.installer_id,
            "reaction": name,
            "item_user": "U0GRACE",
            "item": {"type": "message", "channel": slack.general, "ts": "1767225600.000100"},
        }
        for name in ("eyes", "white_check_mark")
    ]
    for n, event in enumerate([mention, *reactions]):
        body, headers = slack.event_request(event, event_id=f"Ev-{n}")
        post(client, body, headers)
    [run] = Run.objects.filter(recipe=mentions)
    assert run.trigger_data["text"].endswith("summarise please")
    [run] = Run.objects.filter(recipe=done)
    assert run.trigger_data == {
        "emoji": "white_check_mark",
        "user": slack.installer_id,
        "channel": slack.general,
        "message_ts": "1767225600.000100",
        "message_user": "U0GRACE",
        "team_id": slack.team["id"],
    }


def test_a_trigger_without_its_channel_is_not_published(workspace, slack):
    from hub.recipes.format import RecipeFormatError
    from hub.recipes.services import import_recipe

    document = {
        "format": "toolstack.recipe/1",
        "name": "No channel",
        "trigger": {"app": "slack", "event": "new_message", "connection": "Acme Slack"},
        "steps": [slack_step("C1", text="Hi")],
    }
    with pytest.raises(RecipeFormatError) as refused:
        import_recipe(workspace, document, publish=True)
    assert [(p.step, p.field) for p in refused.value.problems] == [("trigger", "channel")]
    assert "the trigger" in str(refused.value) and "Channel" in str(refused.value)
    assert not Recipe.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_fake_delivers_over_http_and_its_retries_make_one_run(
    live_server, workspace, fake_slack
):
    connect(workspace, fake_slack)
    recipe = recipe_on(workspace, channel=fake_slack.general)
    url = live_server.url + URL
    event = message(fake_slack)
    assert fake_slack.deliver(url, event, event_id="Ev-live") == [200]
    # Slack did not hear the answer (a timeout on its side): it sends the same event again.
    body, headers = fake_slack.event_request(event, event_id="Ev-live", retry_num=1)
    import requests

    again = requests.post(url, data=body, headers=headers, timeout=3)
    assert again.status_code == 200 and json.loads(again.content)["runs"] == []
    assert Run.objects.filter(recipe=recipe).count() == 1
    assert Connection.objects.count() == 1


def test_the_newest_events_received_are_there_for_test_trigger(client, workspace, slack):
    from hub.engine.app_events import recent_events

    recipe = recipe_on(workspace, event="reaction_added", name="Reactions")
    for n, emoji in enumerate(("eyes", "tada", "rocket", "fire")):
        event = {
            "type": "reaction_added",
            "user": slack.installer_id,
            "reaction": emoji,
            "item": {"type": "message", "channel": slack.general, "ts": f"1.{n}"},
        }
        body, headers = slack.event_request(event, event_id=f"Ev-r{n}")
        post(client, body, headers)
    assert [d["emoji"] for d in recent_events(recipe)] == ["fire", "rocket", "tada"]


@pytest.mark.django_db(transaction=True)
def test_the_same_event_arriving_at_once_on_many_threads_is_one_run(workspace, fake_slack):
    import threading

    from django.db import connection as db

    from hub.engine.app_events import route_slack_event

    connect(workspace, fake_slack)
    recipe = recipe_on(workspace, channel=fake_slack.general)
    body, _headers = fake_slack.event_request(message(fake_slack), event_id="Ev-race")
    envelope = json.loads(body)
    started: list[list[int]] = []
    gate = threading.Barrier(6)

    def deliver():
        try:
            gate.wait()
            started.append(route_slack_event(envelope))
        finally:
            db.close()

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(started) == 6 and sum(len(s) for s in started) == 1
    assert Run.objects.filter(recipe=recipe).count() == 1


def test_a_message_reached_by_an_event_and_by_a_poll_is_one_run(client, workspace, slack):
    """Socket Mode (or the Events API) and the polling fallback both on: the event and the
    polled item carry the same id, so the message fires once."""
    from integrations import registry
    from integrations.base import Context, PollRequest

    recipe = recipe_on(workspace, channel=slack.general)
    posted = slack.add_message(slack.general, "Help, the invoices page is down")
    body, headers = slack.event_request(message(slack, ts=posted["ts"]), event_id="Ev-both")
    post(client, body, headers)
    ctx = Context(
        workspace_id=workspace.pk,
        config={"channel": slack.general},
        connection=Connection.objects.get(workspace=workspace),
        integration=registry.get("slack"),
    )
    [item] = registry.get("slack").trigger("new_message").poll(ctx, PollRequest(cursor="0")).items
    from hub.engine.runs import start_run

    again = start_run(
        recipe, Run.Source.APP, item.data, dedupe_key=f"trigger:{recipe.pk}:{item.id}"
    )
    assert again is None and Run.objects.filter(recipe=recipe).count() == 1
