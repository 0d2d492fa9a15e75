"""The Slack events setup page: admins only, secrets saved encrypted and never shown back."""

from __future__ import annotations

from hub.accounts.models import AuditEvent
from hub.connections.models import OAuthApp
from hub.engine import app_events

URL = "/connections/apps/slack/events/"


def test_members_may_not_open_it(member_client):
    assert member_client.get(URL).status_code == 403


def test_admin_saves_secrets_that_are_never_shown_back(admin_client, workspace, settings):
    settings.SLACK_SIGNING_SECRET = settings.SLACK_APP_TOKEN = ""
    settings.HUB_BASE_URL = "https://hub.acme.test"
    page = admin_client.get(URL).content.decode()
    assert "https://hub.acme.test/apps/slack/events" in page and "not set up yet" in page
    answer = admin_client.post(
        URL, {"signing_secret": "8f742231b10e8888abcd99yyyzzz85a5", "app_token": ""}
    )
    assert answer.status_code == 302
    app = OAuthApp.objects.get(workspace=workspace, integration="slack")
    assert app.signing_secret == "8f742231b10e8888abcd99yyyzzz85a5" and app.app_token == ""
    assert app_events.slack_signing_secrets() == ["8f742231b10e8888abcd99yyyzzz85a5"]
    page = admin_client.get(URL).content.decode()
    assert "8f742231b10e8888abcd99yyyzzz85a5" not in page and "are set up" in page
    event = AuditEvent.objects.get(action="slack_events.changed")
    assert "8f742231" not in str(event.details)
    # Saving again with empty fields keeps them; the box removes them.
    admin_client.post(URL, {"signing_secret": "", "app_token": ""})
    assert OAuthApp.objects.get(pk=app.pk).signing_secret
    admin_client.post(URL, {"forget": "on"})
    assert OAuthApp.objects.get(pk=app.pk).signing_secret == ""


def test_a_bot_token_is_refused_as_the_app_level_token(admin_client):
    page = admin_client.post(URL, {"app_token": "xoxb-123-456"}).content.decode()
    assert "starts with xapp-" in page
    assert not OAuthApp.objects.exists()


def test_a_private_address_says_to_use_socket_mode(admin_client, settings):
    settings.HUB_BASE_URL = "http://10.0.0.5:8000"
    assert "use Socket Mode below" in admin_client.get(URL).content.decode()
