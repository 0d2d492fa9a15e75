"""Using connections: test, disconnect (revoke), the one action per app, error mapping, and
who may see and use what."""

from __future__ import annotations

import pytest

from hub.accounts.models import AuditEvent, Membership
from hub.connections.models import Connection
from integrations import registry
from integrations.base import Context, IntegrationError
from tests.conftest import make_user
from tests.test_connections_support import (  # noqa: F401  (fixtures)
    clickup,
    connect_ok,
    google,
    notion,
    slack,
)


def ctx_for(conn: Connection, **config) -> Context:
    return Context(
        workspace_id=conn.workspace_id, config=config, connection=conn, integration=conn.app
    )


# -- test connection


@pytest.mark.parametrize(
    ("slug", "fake_name", "route", "says"),
    [
        ("slack", "slack", "auth.test", "Acme"),
        ("notion", "notion", "users.me", "Acme HQ"),
        ("gmail", "google", "users.getProfile", "ops@acme.test"),
        ("clickup", "clickup", "user", "Connected as"),
    ],
)
def test_test_connection_calls_the_app_and_records_the_result(
    request, admin_client, slug, fake_name, route, says
):
    fake = request.getfixturevalue(fake_name)
    conn = connect_ok(admin_client, slug)
    fake.log.clear()
    response = admin_client.post(f"/connections/{conn.pk}/test/", follow=True)
    assert says in response.content.decode()
    assert fake.calls(route)
    conn.refresh_from_db()
    assert conn.last_check_ok is True and conn.last_checked_at is not None


def test_a_failing_test_marks_a_revoked_connection_broken(admin_client, slack):
    conn = connect_ok(admin_client, "slack")
    slack.revoke_token(conn.access_token)
    response = admin_client.post(f"/connections/{conn.pk}/test/", follow=True)
    text = response.content.decode()
    assert "The test failed" in text
    conn.refresh_from_db()
    assert conn.last_check_ok is False
    assert conn.status == "needs_reconnect"
    assert "Needs reconnecting" in text


# -- disconnect


@pytest.mark.parametrize(
    ("slug", "fake_name", "route"),
    [("slack", "slack", "auth.revoke"), ("notion", "notion", "oauth.revoke"),
     ("gmail", "google", "oauth.revoke")],
)  # fmt: skip
def test_disconnect_revokes_at_the_app_and_forgets_the_secrets(
    request, admin_client, slug, fake_name, route
):
    fake = request.getfixturevalue(fake_name)
    conn = connect_ok(admin_client, slug)
    token = conn.access_token
    response = admin_client.post(f"/connections/{conn.pk}/disconnect/", follow=True)
    assert "withdrawn its access" in response.content.decode()
    assert len(fake.calls(route)) == 1
    assert fake.token(token).state == "revoked"
    conn.refresh_from_db()
    assert conn.status == "disconnected"
    assert (conn.access_token, conn.refresh_token) == ("", "")
    event = AuditEvent.objects.get(action="connection.disconnected")
    assert event.details["revoked_at_app"] is True
    with pytest.raises(IntegrationError):
        conn.fresh_token()


def test_disconnecting_clickup_says_to_remove_the_app_there(admin_client, clickup):
    conn = connect_ok(admin_client, "clickup")
    response = admin_client.post(f"/connections/{conn.pk}/disconnect/", follow=True)
    assert "no way" in response.content.decode()
    conn.refresh_from_db()
    assert conn.status == "disconnected" and conn.access_token == ""


def test_a_disconnected_connection_can_be_reconnected_in_place(admin_client, slack):
    conn = connect_ok(admin_client, "slack")
    admin_client.post(f"/connections/{conn.pk}/disconnect/")
    again = connect_ok(admin_client, "slack", reconnect=conn.pk)
    assert again.pk == conn.pk and again.status == "active"


# -- one action per app


def test_slack_send_message_posts_through_the_connection(admin_client, slack):
    conn = connect_ok(admin_client, "slack")
    channel = slack.add_channel("sales")
    action = registry.get("slack").action("send_message")
    out = action.run(ctx_for(conn, channel=channel, text="Hello"))
    assert out["channel"] == channel and out["ts"] and out["text"] == "Hello"
    [call] = slack.calls("chat.postMessage")
    assert call.token == conn.access_token
    reply = action.run(ctx_for(conn, channel=channel, text="Re", thread_ts=out["ts"]))
    assert slack.messages[channel][-1]["thread_ts"] == out["ts"]
    assert reply["ts"] != out["ts"]
    assert {f.key for f in action.fields if f.required} == {"channel", "text"}


def test_slack_channel_choices_page_and_search(admin_client, slack, monkeypatch):
    from integrations.slack import actions

    conn = connect_ok(admin_client, "slack")
    for i in range(5):
        slack.add_channel(f"team-{i}")
    slack.add_channel("secret-plans", private=True)
    slack.add_channel("old", archived=True)
    monkeypatch.setattr(actions, "PAGE_SIZE", 3)
    field = registry.get("slack").action("send_message").field("channel")
    first = field.dynamic_choices(ctx_for(conn), "", None)
    assert len(first.choices) == 3 and first.next_page
    seen = [c.label for c in first.choices]
    page = first
    while page.next_page:
        page = field.dynamic_choices(ctx_for(conn), "", page.next_page)
        seen += [c.label for c in page.choices]
    assert "🔒 secret-plans" in seen and "#old" not in seen and len(seen) == 7
    found = field.dynamic_choices(ctx_for(conn), "secret", None)
    assert [c.label for c in found.choices] == ["🔒 secret-plans"]


def test_slack_errors_become_integration_errors(admin_client, slack):
    conn = connect_ok(admin_client, "slack")
    action = registry.get("slack").action("send_message")
    with pytest.raises(IntegrationError) as caught:
        action.run(ctx_for(conn, channel="C404", text="x"))
    assert caught.value.permanent and "cannot find that channel" in caught.value.message
    slack.rate_limit("chat.postMessage", retry_after=7)
    with pytest.raises(IntegrationError) as caught:
        action.run(ctx_for(conn, channel="#general", text="x"))
    assert caught.value.retryable and caught.value.retry_after == 7
    slack.revoke_token(conn.access_token)
    with pytest.raises(IntegrationError) as caught:
        action.run(ctx_for(conn, channel="#general", text="x"))
    assert caught.value.reauth


def test_notion_get_me(admin_client, notion):
    conn = connect_ok(admin_client, "notion")
    out = registry.get("notion").action("get_me").run(ctx_for(conn))
    assert out["workspace_name"] == "Acme HQ"
    notion.revoke_token(conn.access_token)
    with pytest.raises(IntegrationError) as caught:
        registry.get("notion").action("get_me").run(ctx_for(conn))
    assert caught.value.reauth


def test_gmail_get_profile(admin_client, google):
    conn = connect_ok(admin_client, "gmail")
    out = registry.get("gmail").action("get_profile").run(ctx_for(conn))
    assert out["email"] == "ops@acme.test"
    google.fail_next("users.getProfile", status=503)
    with pytest.raises(IntegrationError) as caught:
        registry.get("gmail").action("get_profile").run(ctx_for(conn))
    assert caught.value.retryable


def test_clickup_get_user_and_rate_limit_from_the_reset_header(admin_client, clickup):
    conn = connect_ok(admin_client, "clickup")
    out = registry.get("clickup").action("get_user").run(ctx_for(conn))
    assert out["name"] == clickup.user["username"]
    clickup.rate_limit("user", retry_after=5)
    with pytest.raises(IntegrationError) as caught:
        registry.get("clickup").action("get_user").run(ctx_for(conn))
    assert caught.value.retryable and 3 <= caught.value.retry_after <= 6
    clickup.revoke_token(conn.access_token)
    with pytest.raises(IntegrationError) as caught:
        registry.get("clickup").action("get_user").run(ctx_for(conn))
    assert caught.value.reauth


# -- who may do what


@pytest.fixture
def slack_conn(admin_client, slack):
    return connect_ok(admin_client, "slack")


def test_members_see_connections_shared_with_everyone(client, member_user, slack_conn):
    client.force_login(member_user)
    page = client.get("/connections/").content.decode()
    assert "Acme" in page and "Connect Slack" not in page
    assert client.get(f"/connections/{slack_conn.pk}/").status_code == 200
    assert client.post(f"/connections/{slack_conn.pk}/disconnect/").status_code == 403
    assert client.post(f"/connections/{slack_conn.pk}/settings/", {"label": "x"}).status_code == 403


def test_a_connection_shared_with_named_members_only(admin_client, workspace, slack_conn):
    from django.test import Client

    chosen = make_user("cho@acme.test", workspace, Membership.Role.MEMBER)
    other = make_user("dan@acme.test", workspace, Membership.Role.MEMBER)
    response = admin_client.post(
        f"/connections/{slack_conn.pk}/settings/",
        {"label": "Acme Slack", "allowed_users": [chosen.pk]},
    )
    assert response.status_code == 302
    slack_conn.refresh_from_db()
    assert slack_conn.label == "Acme Slack" and not slack_conn.shared_with_all
    assert list(Connection.objects.usable_by(chosen, workspace)) == [slack_conn]
    assert list(Connection.objects.usable_by(other, workspace)) == []
    c = Client()
    c.force_login(other)
    assert c.get(f"/connections/{slack_conn.pk}/").status_code == 404
    assert "Acme Slack" not in c.get("/connections/").content.decode()
    c.force_login(chosen)
    assert c.get(f"/connections/{slack_conn.pk}/").status_code == 200


def test_labels_are_unique_within_a_workspace(admin_client, workspace, slack_conn):
    Connection.objects.create(workspace=workspace, integration="notion", label="Docs")
    response = admin_client.post(
        f"/connections/{slack_conn.pk}/settings/", {"label": "Docs", "shared_with_all": "on"}
    )
    assert response.status_code == 400
    assert "already has this name" in response.content.decode()


def test_another_workspace_cannot_see_the_connection(client, outsider, slack_conn):
    client.force_login(outsider)
    assert client.get(f"/connections/{slack_conn.pk}/").status_code == 404
    assert client.post(f"/connections/{slack_conn.pk}/disconnect/").status_code == 404
    assert list(Connection.objects.usable_by(outsider, slack_conn.workspace)) == []
