"""The OAuth round trip for each app through its fake: labels, PKCE, each token endpoint's
quirks, reconnecting, and every way it can fail."""

from __future__ import annotations

import pytest
from django.db import connection as db

from hub.accounts.models import AuditEvent
from hub.connections.models import Connection, OAuthApp
from tests.fakes.kit import consent
from tests.test_connections_support import (  # noqa: F401  (fixtures)
    clickup,
    come_back,
    connect,
    connect_ok,
    google,
    notion,
    query_of,
    rotating_slack,
    slack,
    start,
)


def raw_column(pk: int, column: str) -> str:
    with db.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM connections_connection WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def test_slack_connects_with_pkce_and_basic_auth_and_is_labelled_with_the_team(admin_client, slack):
    authorize = start(admin_client, "slack")
    params = query_of(authorize)
    assert params["scope"].startswith("chat:write,")
    assert params["code_challenge_method"] == "S256"
    assert params["redirect_uri"].endswith("/connections/slack/callback/")
    response = come_back(admin_client, consent(authorize))
    assert response.status_code == 302
    conn = Connection.objects.get()
    assert (conn.label, conn.external_id, conn.status) == ("Acme", "T0FAKETEAM", "active")
    assert conn.access_token.startswith("xoxb-")
    [call] = slack.calls("oauth.v2.access")
    assert call.headers["authorization"].startswith("Basic ")
    assert call.body["code_verifier"]
    assert "client_secret" not in call.body
    assert AuditEvent.objects.filter(action="connection.connected", target="Acme").exists()
    page = admin_client.get(response["Location"])
    assert "Acme" in page.content.decode()


def test_slack_with_token_rotation_stores_the_refresh_token_and_expiry(
    admin_client, rotating_slack
):
    conn = connect_ok(admin_client, "slack")
    assert conn.refresh_token.startswith("xoxe-1-")
    assert conn.expires_at is not None
    assert conn.can_refresh


def test_notion_connects_with_basic_auth_and_json_and_is_labelled_with_the_workspace(
    admin_client, notion
):
    authorize = start(admin_client, "notion")
    assert query_of(authorize)["owner"] == "user"
    conn = connect_ok(admin_client, "notion")
    assert conn.label == "Acme HQ"
    assert conn.external_id == notion.bot_id
    [call] = notion.calls("oauth.token")
    assert call.headers["authorization"].startswith("Basic ")
    assert call.headers["content-type"].startswith("application/json")
    assert call.body["grant_type"] == "authorization_code"
    assert call.body["redirect_uri"].endswith("/connections/notion/callback/")
    assert conn.refresh_token and conn.can_refresh


def test_gmail_connects_offline_with_consent_and_is_labelled_with_the_address(admin_client, google):
    authorize = start(admin_client, "gmail")
    params = query_of(authorize)
    assert params["access_type"] == "offline"
    assert params["prompt"] == "consent"
    assert params["code_challenge"]
    conn = connect_ok(admin_client, "gmail")
    assert conn.label == "ops@acme.test"
    assert conn.refresh_token.startswith("1//")
    assert conn.expires_at is not None
    [call] = google.calls("oauth.token")
    assert call.body["client_id"] == google.client_id
    assert call.body["code_verifier"]


def test_clickup_connects_with_query_parameters_and_lists_its_workspaces(admin_client, clickup):
    conn = connect_ok(admin_client, "clickup")
    assert conn.label == clickup.user["username"]
    assert conn.external_id == str(clickup.user["id"])
    assert conn.details["workspaces"]
    assert not conn.refresh_token and conn.expires_at is None
    [call] = clickup.calls("oauth.token")
    assert call.query["client_secret"] == [clickup.client_secret]
    page = admin_client.get(f"/connections/{conn.pk}/").content.decode()
    assert conn.details["workspaces"][0]["name"] in page


def test_reconnecting_the_same_account_updates_the_connection(admin_client, slack):
    first = connect_ok(admin_client, "slack")
    second = connect_ok(admin_client, "slack", reconnect=first.pk)
    assert first.pk == second.pk
    assert Connection.objects.count() == 1
    assert second.token_version > first.token_version
    assert second.access_token != first.access_token
    assert AuditEvent.objects.filter(action="connection.reconnected").count() == 1


def test_a_different_account_gets_its_own_unique_label(admin_client, slack):
    connect_ok(admin_client, "slack")
    slack.team = {"id": "T0OTHER", "name": "Acme", "domain": "acme2"}
    second = connect_ok(admin_client, "slack")
    assert second.label == "Acme (2)"


def test_a_tampered_state_is_refused(admin_client, slack):
    location = consent(start(admin_client, "slack"))
    response = admin_client.get(
        "/connections/slack/callback/", {**query_of(location), "state": "forged"}
    )
    assert response.status_code == 400
    assert "no longer valid" in response.content.decode()
    assert not Connection.objects.exists()
    assert not slack.calls("oauth.v2.access")


def test_a_replayed_callback_is_refused(admin_client, slack):
    location = consent(start(admin_client, "slack"))
    assert come_back(admin_client, location).status_code == 302
    again = come_back(admin_client, location)
    assert again.status_code == 400
    assert len(slack.calls("oauth.v2.access")) == 1


def test_a_state_from_another_session_is_refused(admin_client, client, admin_user, slack):
    from django.test import Client

    location = consent(start(admin_client, "slack"))
    other = Client()
    other.force_login(admin_user)
    assert come_back(other, location).status_code == 400
    assert not Connection.objects.exists()


def test_cancel_ends_on_a_page_that_says_what_happened(admin_client, slack):
    response = connect(admin_client, "slack", allow=False)
    assert response.status_code == 200
    text = response.content.decode()
    assert "You cancelled the connection" in text
    assert "Allow" in text
    assert not Connection.objects.exists()


def test_a_refused_code_exchange_says_what_to_do(admin_client, slack, settings):
    settings.OAUTH_CLIENTS = {**settings.OAUTH_CLIENTS, "SLACK": {
        "client_id": slack.client_id, "client_secret": "wrong"}}  # fmt: skip
    response = connect(admin_client, "slack")
    assert response.status_code == 400
    text = response.content.decode()
    assert "refused the connection" in text and "bad_client_secret" in text
    assert "wrong" not in text


def test_an_app_without_credentials_asks_for_them(admin_client, settings, slack):
    settings.OAUTH_CLIENTS = {"SLACK": {"client_id": "", "client_secret": ""}}
    response = admin_client.post("/connections/apps/slack/connect/")
    assert response.status_code == 302
    assert response["Location"] == "/connections/apps/slack/"


def test_credentials_entered_by_an_admin_are_used_and_encrypted(admin_client, settings, slack):
    settings.OAUTH_CLIENTS = {"SLACK": {"client_id": "", "client_secret": ""}}
    page = admin_client.get("/connections/apps/slack/").content.decode()
    assert "/connections/slack/callback/" in page
    response = admin_client.post(
        "/connections/apps/slack/",
        {"client_id": slack.client_id, "client_secret": slack.client_secret},
    )
    assert response.status_code == 302
    app = OAuthApp.objects.get()
    with db.cursor() as cursor:
        cursor.execute("SELECT client_secret FROM connections_oauthapp")
        stored = cursor.fetchone()[0]
    assert slack.client_secret not in stored
    assert app.client_secret == slack.client_secret
    assert slack.client_secret not in admin_client.get("/connections/apps/slack/").content.decode()
    assert AuditEvent.objects.filter(action="oauth_app.changed").exists()
    conn = connect_ok(admin_client, "slack")
    assert conn.label == "Acme"


def test_environment_credentials_win_and_the_page_says_so(admin_client, slack):
    page = admin_client.get("/connections/apps/slack/").content.decode()
    assert "SLACK_CLIENT_ID" in page
    assert slack.client_secret not in page


def test_members_cannot_connect_accounts(member_client, slack):
    assert member_client.post("/connections/apps/slack/connect/").status_code == 403
    assert member_client.get("/connections/apps/slack/").status_code == 403


def test_unknown_app_is_404(admin_client):
    assert admin_client.post("/connections/apps/nope/connect/").status_code == 404


@pytest.mark.parametrize("column", ["access_token", "refresh_token"])
def test_tokens_are_not_stored_in_plain_text(admin_client, rotating_slack, column):
    conn = connect_ok(admin_client, "slack")
    stored = raw_column(conn.pk, column)
    assert stored.startswith("gAAAA")
    assert getattr(conn, column) not in stored
