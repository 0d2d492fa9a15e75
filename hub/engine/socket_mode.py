"""Slack's Socket Mode: the same events as the Events API, over a websocket the hub opens with
the app-level token (``xapp-…``), for hubs Slack cannot reach. slack-sdk's built-in Socket
Mode client keeps the connection (``apps.connections.open`` gives a fresh websocket URL;
it reconnects on its own).

Each ``events_api`` envelope goes through the same routing as the HTTP endpoint
(``app_events.route_slack_event``) and is acknowledged only once its runs are inserted: an
envelope not acknowledged is sent again by Slack, so a crash before the insert loses nothing,
and one after it is deduped on ``event_id``. The websocket is authenticated by the token, so
there is no signature to check.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import close_old_connections
from slack_sdk import WebClient
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from hub.engine import app_events

log = logging.getLogger(__name__)


def handle(client: SocketModeClient, request: SocketModeRequest) -> None:
    if request.type != "events_api":
        # Slash commands and interactivity are not triggers; acknowledge so Slack stops.
        client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))
        return
    close_old_connections()
    envelope = request.payload or {}
    try:
        started = app_events.route_slack_event(envelope)
    except app_events.NotFound:
        log.warning("Slack event for team %s: no connection is for it", envelope.get("team_id"))
        started = []
    except Exception:
        # Not acknowledged: Slack sends the envelope again.
        log.exception("Slack event %s could not be stored", envelope.get("event_id"))
        return
    client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))
    log.info("Slack event %s: %d run(s)", envelope.get("event_id"), len(started))


def client(app_token: str) -> SocketModeClient:
    socket = SocketModeClient(
        app_token=app_token,
        web_client=WebClient(base_url=settings.SLACK_API_URL, timeout=30),
        # Acknowledge from one thread at a time: each handler writes its runs first.
        concurrency=4,
    )
    socket.socket_mode_request_listeners.append(handle)
    return socket


def run(stop: threading.Event, app_token: str | None = None) -> None:
    """Connect and handle events until ``stop`` is set."""
    token = app_token or app_events.slack_app_token()
    if not token:
        raise RuntimeError(
            "Socket Mode needs Slack's app-level token: set SLACK_APP_TOKEN or enter it on "
            "Slack's setup page."
        )
    socket = client(token)
    socket.connect()
    try:
        stop.wait()
    finally:
        socket.close()
