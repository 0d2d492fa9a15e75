"""The vault: encryption at rest, key rotation, single-flight refresh, broken connections and
the periodic refresh task."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.core import mail
from django.core.management import call_command
from django.db import connection as db
from django.db import connections
from django.utils import timezone

from hub.accounts.models import AuditEvent
from hub.connections import tasks
from hub.connections.models import Connection, OAuthApp
from hub.connections.signals import connection_broken
from integrations.base import IntegrationError
from tests.test_connections_support import (  # noqa: F401  (fixtures)
    connect_ok,
    google,
    notion,
    rotating_slack,
)


def expire(conn: Connection) -> Connection:
    Connection.objects.filter(pk=conn.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    return Connection.objects.get(pk=conn.pk)


def refresh_calls(fake, route: str) -> list:
    return [c for c in fake.calls(route) if (c.body or {}).get("grant_type") == "refresh_token"]


# -- encryption at rest and key rotation


def test_rotate_keys_re_encrypts_everything_under_the_new_key(settings, workspace):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    conn = Connection.objects.create(
        workspace=workspace,
        integration="slack",
        label="A",
        access_token="xoxb-1",
        refresh_token="r-1",
    )
    OAuthApp.objects.create(integration="slack", client_id="id", client_secret="s3cret")
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    call_command("rotate_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    settings.FIELD_ENCRYPTION_KEYS = [new]
    conn = Connection.objects.get(pk=conn.pk)
    assert (conn.access_token, conn.refresh_token) == ("xoxb-1", "r-1")
    assert OAuthApp.objects.get().client_secret == "s3cret"
    with db.cursor() as cursor:
        cursor.execute("SELECT access_token FROM connections_connection")
        stored = cursor.fetchone()[0]
    assert Fernet(new.encode()).decrypt(stored.encode()) == b"xoxb-1"


def test_a_missing_key_is_a_clear_error_without_the_value(settings, workspace):
    from hub.connections.crypto import VaultError

    conn = Connection.objects.create(
        workspace=workspace, integration="slack", label="A", access_token="xoxb-secret"
    )
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(VaultError) as caught:
        Connection.objects.get(pk=conn.pk)
    assert "xoxb" not in str(caught.value)


def test_empty_secrets_stay_empty(workspace):
    conn = Connection.objects.create(workspace=workspace, integration="clickup", label="A")
    with db.cursor() as cursor:
        cursor.execute("SELECT access_token FROM connections_connection WHERE id=%s", [conn.pk])
        assert cursor.fetchone()[0] == ""


# -- refresh


def test_fresh_token_refreshes_ahead_of_expiry_and_rotates(admin_client, rotating_slack):
    conn = connect_ok(admin_client, "slack")
    old_access, old_refresh = conn.access_token, conn.refresh_token
    Connection.objects.filter(pk=conn.pk).update(expires_at=timezone.now() + timedelta(minutes=2))
    conn = Connection.objects.get(pk=conn.pk)
    token = conn.fresh_token()
    assert token != old_access
    stored = Connection.objects.get(pk=conn.pk)
    assert stored.access_token == token
    assert stored.refresh_token != old_refresh
    assert stored.token_version == conn.token_version
    assert len(refresh_calls(rotating_slack, "oauth.v2.access")) == 1
    # The new token works at Slack.
    assert conn.app.client(stored).auth_test()["team"] == "Acme"


def test_a_token_far_from_expiry_is_used_as_is(admin_client, rotating_slack):
    conn = connect_ok(admin_client, "slack")
    assert conn.fresh_token() == conn.access_token
    assert not refresh_calls(rotating_slack, "oauth.v2.access")


def test_a_forced_refresh_from_a_stale_copy_uses_the_newer_token(admin_client, rotating_slack):
    conn = connect_ok(admin_client, "slack")
    first = Connection.objects.get(pk=conn.pk)
    second = Connection.objects.get(pk=conn.pk)
    token = first.refresh(force=True)
    # `second` still holds the old version: someone refreshed meanwhile, so no second spend.
    assert second.refresh(force=True) == token
    assert len(refresh_calls(rotating_slack, "oauth.v2.access")) == 1


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_callers_cause_exactly_one_refresh(admin_client, rotating_slack):
    conn = expire(connect_ok(admin_client, "slack"))
    barrier = threading.Barrier(20)
    results: list[str] = []
    errors: list[BaseException] = []

    def use_it():
        try:
            mine = Connection.objects.get(pk=conn.pk)
            barrier.wait(timeout=30)
            results.append(mine.fresh_token())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=use_it) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert len(results) == 20
    assert len(refresh_calls(rotating_slack, "oauth.v2.access")) == 1
    assert len(set(results)) == 1
    stored = Connection.objects.get(pk=conn.pk)
    assert stored.access_token == results[0]
    assert stored.status == "active"
    assert stored.token_version == conn.token_version + 1


def test_google_refresh_keeps_the_refresh_token_it_does_not_reissue(admin_client, google):
    conn = expire(connect_ok(admin_client, "gmail"))
    refresh = conn.refresh_token
    conn.fresh_token()
    stored = Connection.objects.get(pk=conn.pk)
    assert stored.refresh_token == refresh
    assert stored.expires_at > timezone.now() + timedelta(minutes=30)
    assert conn.app.client(stored).profile()["emailAddress"] == "ops@acme.test"


def test_notion_refresh_rotates_the_refresh_token(admin_client, notion):
    conn = connect_ok(admin_client, "notion")
    old_refresh = conn.refresh_token
    conn.refresh(force=True)
    assert Connection.objects.get(pk=conn.pk).refresh_token != old_refresh
    [call] = refresh_calls(notion, "oauth.token")
    assert call.headers["authorization"].startswith("Basic ")


def test_invalid_grant_needs_reconnecting_and_tells_admins_once(admin_client, admin_user, notion):
    conn = connect_ok(admin_client, "notion")
    heard: list[Connection] = []

    def listener(sender, connection, **kwargs):
        heard.append(connection)

    connection_broken.connect(listener)
    try:
        notion.fail_refresh()
        with pytest.raises(IntegrationError) as caught:
            conn.refresh(force=True)
        assert caught.value.reauth
        # A second caller does not spend anything or notify again.
        with pytest.raises(IntegrationError):
            Connection.objects.get(pk=conn.pk).refresh(force=True)
    finally:
        connection_broken.disconnect(listener)
    stored = Connection.objects.get(pk=conn.pk)
    assert stored.status == "needs_reconnect"
    assert "refused" in stored.last_error
    assert [c.pk for c in heard] == [conn.pk]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [admin_user.email]
    assert "needs reconnecting" in mail.outbox[0].subject
    assert AuditEvent.objects.filter(action="connection.refresh_failed").count() == 1
    assert len(refresh_calls(notion, "oauth.token")) == 1
    with pytest.raises(IntegrationError) as caught:
        stored.fresh_token()
    assert caught.value.reauth
    # The banner tells admins on every page.
    page = admin_client.get("/connections/").content.decode()
    assert "needs reconnecting" in page and "badge bad" in page


def test_slack_invalid_refresh_token_also_breaks_the_connection(admin_client, rotating_slack):
    conn = expire(connect_ok(admin_client, "slack"))
    rotating_slack.fail_refresh()
    with pytest.raises(IntegrationError):
        conn.fresh_token()
    assert Connection.objects.get(pk=conn.pk).status == "needs_reconnect"


def test_a_passing_token_endpoint_failure_does_not_break_the_connection(
    admin_client, rotating_slack
):
    conn = connect_ok(admin_client, "slack")
    rotating_slack.fail_next("oauth.v2.access", status=503)
    with pytest.raises(IntegrationError) as caught:
        conn.refresh(force=True)
    assert caught.value.retryable
    assert Connection.objects.get(pk=conn.pk).status == "active"
    # Before expiry a failed early refresh falls back to the still-valid token.
    Connection.objects.filter(pk=conn.pk).update(expires_at=timezone.now() + timedelta(minutes=2))
    conn = Connection.objects.get(pk=conn.pk)
    rotating_slack.fail_next("oauth.v2.access", status=503)
    assert conn.fresh_token() == conn.access_token


def test_clickup_cannot_refresh_so_a_forced_refresh_breaks_it(admin_client, clickup_conn):
    with pytest.raises(IntegrationError):
        clickup_conn.refresh(force=True)
    assert Connection.objects.get(pk=clickup_conn.pk).status == "needs_reconnect"


@pytest.fixture
def clickup_conn(admin_client, settings):
    from tests.fakes.clickup import FakeClickUp
    from tests.test_connections_support import point_at

    with FakeClickUp() as fake:
        point_at(settings, fake)
        yield connect_ok(admin_client, "clickup")


def test_api_key_connections_use_the_same_vault(workspace):
    conn = Connection.objects.create(
        workspace=workspace,
        integration="openai",
        kind=Connection.Kind.API_KEY,
        label="OpenAI",
        access_token="sk-test-123",
    )
    assert Connection.objects.get(pk=conn.pk).fresh_token() == "sk-test-123"
    with db.cursor() as cursor:
        cursor.execute("SELECT access_token FROM connections_connection WHERE id=%s", [conn.pk])
        assert "sk-test" not in cursor.fetchone()[0]


# -- the periodic task


def test_the_periodic_task_refreshes_connections_that_expire_soon(
    admin_client, rotating_slack, google, settings
):
    slack_conn = connect_ok(admin_client, "slack")
    gmail_conn = connect_ok(admin_client, "gmail")
    Connection.objects.filter(pk=slack_conn.pk).update(
        expires_at=timezone.now() + timedelta(minutes=10)
    )
    assert tasks.refresh_due() == [slack_conn.pk]
    assert tasks.refresh_connection.run(slack_conn.pk) == "refreshed"
    assert tasks.refresh_connection.run(gmail_conn.pk) == "not due"
    assert len(refresh_calls(rotating_slack, "oauth.v2.access")) == 1
    assert tasks.refresh_due() == []
    assert "refresh-expiring-connections" in settings.CELERY_BEAT_SCHEDULE


def test_the_periodic_task_enqueues_one_refresh_per_due_connection(
    admin_client, rotating_slack, monkeypatch
):
    conn = connect_ok(admin_client, "slack")
    Connection.objects.filter(pk=conn.pk).update(expires_at=timezone.now())
    sent: list[int] = []
    monkeypatch.setattr(tasks.refresh_connection, "delay", sent.append)
    assert tasks.refresh_expiring.run() == 1
    assert sent == [conn.pk]
