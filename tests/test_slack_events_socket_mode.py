"""Socket Mode: slack-sdk's built-in client against a fake Socket Mode websocket, feeding the
same routing as the Events API endpoint; each envelope acknowledged only after its runs are
stored."""

from __future__ import annotations

import json
import threading

import pytest

from hub.engine import app_events, socket_mode
from hub.engine.models import Run
from tests.test_slack_events import connect, message, recipe_on


@pytest.fixture
def socket(transactional_db, fake_slack, settings):
    fake_socket = fake_slack.socket_mode()
    settings.SLACK_APP_TOKEN = fake_slack.app_token
    settings.SLACK_SIGNING_SECRET = ""  # Socket Mode needs none
    stop = threading.Event()
    thread = threading.Thread(target=socket_mode.run, args=(stop,), daemon=True)
    thread.start()
    fake_socket.wait_connected()
    yield fake_socket
    stop.set()
    thread.join(10)
    fake_socket.__exit__()


def envelope(fake, event, event_id):
    body, _headers = fake.event_request(event, event_id=event_id)
    return json.loads(body)


def test_the_client_opens_the_url_apps_connections_open_gives(fake_slack, socket):
    [call] = fake_slack.calls("apps.connections.open")
    assert call.token == fake_slack.app_token
    assert socket.paths[0].startswith("/link/?ticket=")


def test_an_event_over_the_socket_starts_one_run_before_it_is_acknowledged(
    workspace, fake_slack, socket
):
    connect(workspace, fake_slack)
    recipe = recipe_on(workspace, channel=fake_slack.general)
    event = message(fake_slack)
    assert socket.push(envelope(fake_slack, event, "EvSock1")) == [0]
    [run] = Run.objects.filter(recipe=recipe)
    assert run.dedupe_key == f"trigger:{recipe.pk}:{fake_slack.general}:{event['ts']}"
    assert run.trigger_data["text"] == "Help, the invoices page is down"
    # Slack sends it again (say, over a second connection): acknowledged, nothing new.
    assert socket.push(envelope(fake_slack, event, "EvSock1")) == [0]
    assert Run.objects.filter(recipe=recipe).count() == 1


def test_an_envelope_that_could_not_be_stored_is_not_acknowledged_and_comes_again(
    workspace, fake_slack, socket, monkeypatch
):
    connect(workspace, fake_slack)
    recipe = recipe_on(workspace, channel=fake_slack.general)
    socket.ack_timeout = 1.0
    real = app_events.route_slack_event
    calls = []

    def database_down_once(payload):
        calls.append(payload["event_id"])
        if len(calls) == 1:
            raise RuntimeError("database is down")
        return real(payload)

    monkeypatch.setattr(app_events, "route_slack_event", database_down_once)
    assert socket.push(envelope(fake_slack, message(fake_slack), "EvSock2")) == [1]
    assert calls == ["EvSock2", "EvSock2"]
    assert Run.objects.filter(recipe=recipe).count() == 1


def test_an_unknown_team_is_acknowledged_and_stores_nothing(workspace, fake_slack, socket):
    fake_slack.team["id"] = "T0NOBODY"
    assert socket.push(envelope(fake_slack, message(fake_slack), "EvSock3")) == [0]
    assert not Run.objects.exists()
