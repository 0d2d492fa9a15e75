"""A token refresh is never cut short by a step's timer, and holds no database lock while the
app's token endpoint answers: the token is made fresh before the timer starts, single-flight
by a claim on the connection's row, with the HTTP call outside any transaction."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection as db
from django.db import connections
from django.utils import timezone

from hub.connections.models import Connection
from hub.engine.executor import execute
from hub.engine.models import Run
from hub.engine.runs import start_run
from tests.conftest import make_recipe, slack_step
from tests.test_connections_support import (  # noqa: F401  (fixtures)
    connect_ok,
    rotating_slack,
)


def refresh_calls(fake) -> list:
    return [
        c
        for c in fake.calls("oauth.v2.access")
        if (c.body or {}).get("grant_type") == "refresh_token"
    ]


def _expiring_connection(admin_client) -> Connection:
    conn = connect_ok(admin_client, "slack")
    Connection.objects.filter(pk=conn.pk).update(
        label="Acme Slack", expires_at=timezone.now() + timedelta(minutes=1)
    )
    return Connection.objects.get(pk=conn.pk)


def _answer_after(fake, monkeypatch, wait):
    """The token endpoint rotates the refresh token, then ``wait()``s before answering."""
    real = fake._refresh

    def late(params):
        response = real(params)
        wait()
        return response

    monkeypatch.setattr(fake, "_refresh", late)


def test_a_step_timeout_cannot_lose_a_rotated_refresh_token(
    admin_client, workspace, rotating_slack, settings, monkeypatch
):
    """The app issues the rotated token and answers after the step's time limit: the
    refresh is not part of the step's time, so the token is saved and the runs work."""
    settings.ENGINE_STEP_TIMEOUT_SECONDS = 0.3
    conn = _expiring_connection(admin_client)
    slow = threading.Event()
    _answer_after(rotating_slack, monkeypatch, lambda: slow.wait(1.0))
    channel = rotating_slack.add_channel("news")
    recipe = make_recipe(workspace, [slack_step(channel)])

    run = start_run(recipe, Run.Source.MANUAL, {"name": "ada"})
    assert execute(run.id) == "succeeded"

    stored = Connection.objects.get(pk=conn.pk)
    assert stored.status == "active"
    assert stored.refresh_token != conn.refresh_token
    assert len(refresh_calls(rotating_slack)) == 1
    # The next run works, and so does the next refresh, with the token saved above.
    Connection.objects.filter(pk=conn.pk).update(expires_at=timezone.now())
    again = start_run(recipe, Run.Source.MANUAL, {"name": "bob"})
    assert execute(again.id) == "succeeded"
    assert len(refresh_calls(rotating_slack)) == 2
    assert Connection.objects.get(pk=conn.pk).status == "active"
    texts = [m["text"] for m in rotating_slack.messages[channel]]
    assert texts == ["Hello ADA", "Hello BOB"]


@pytest.mark.django_db(transaction=True)
def test_no_database_lock_is_held_while_the_token_endpoint_answers(
    admin_client, rotating_slack, monkeypatch
):
    """While one caller waits for the token endpoint, another connection can write — on
    SQLite anything at all (no write lock held), on PostgreSQL the connection's own row."""
    conn = _expiring_connection(admin_client)
    asked, answer = threading.Event(), threading.Event()

    def hold():
        asked.set()
        answer.wait(10)

    _answer_after(rotating_slack, monkeypatch, hold)
    result: dict = {}

    def refresh():
        try:
            result["token"] = Connection.objects.get(pk=conn.pk).fresh_token()
        except BaseException as exc:
            result["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=refresh)
    thread.start()
    try:
        assert asked.wait(10), "the token endpoint was never called"
        wrote = _write_without_waiting(conn.pk)
    finally:
        answer.set()
        thread.join(30)
    assert wrote is True
    assert "error" not in result, result
    stored = Connection.objects.get(pk=conn.pk)
    assert stored.access_token == result["token"] and stored.token_version == conn.token_version + 1


def _write_without_waiting(pk: int):
    """Write the connection's row from this thread's own database connection, refusing to
    wait for any lock: True, or the database's complaint."""
    from django.db import DatabaseError, transaction

    try:
        with db.cursor() as cursor:
            if db.vendor == "sqlite":
                cursor.execute("PRAGMA busy_timeout")
                (previous,) = cursor.fetchone()
                cursor.execute("PRAGMA busy_timeout = 0")
                try:
                    cursor.execute(
                        "UPDATE connections_connection SET last_error = 'probe' WHERE id = %s",
                        [pk],
                    )
                finally:
                    cursor.execute(f"PRAGMA busy_timeout = {int(previous)}")
            else:
                with transaction.atomic():
                    cursor.execute(
                        "SELECT id FROM connections_connection WHERE id = %s FOR UPDATE NOWAIT",
                        [pk],
                    )
                    cursor.execute(
                        "UPDATE connections_connection SET last_error = 'probe' WHERE id = %s",
                        [pk],
                    )
    except DatabaseError as exc:
        return str(exc)
    return True


def test_a_claim_left_by_a_dead_caller_does_not_block_refreshing(admin_client, rotating_slack):
    conn = _expiring_connection(admin_client)
    Connection.objects.filter(pk=conn.pk).update(
        refresh_claim="dead-worker", refresh_claimed_until=timezone.now() - timedelta(seconds=1)
    )
    conn = Connection.objects.get(pk=conn.pk)
    token = conn.fresh_token()
    stored = Connection.objects.get(pk=conn.pk)
    assert stored.access_token == token and stored.refresh_claim == ""
    assert len(refresh_calls(rotating_slack)) == 1


def test_a_failed_refresh_releases_its_claim(admin_client, rotating_slack):
    conn = _expiring_connection(admin_client)
    rotating_slack.fail_next("oauth.v2.access", status=503)
    # Still valid for a minute: the old token is used, and the next caller may try again.
    assert conn.fresh_token() == conn.access_token
    assert Connection.objects.get(pk=conn.pk).refresh_claim == ""
    assert Connection.objects.get(pk=conn.pk).fresh_token() != conn.access_token
