"""The PostgreSQL health check costs no round trip while the connection is healthy, and a
connection the server ended is still replaced before the next request uses it."""

from __future__ import annotations

import time

import psycopg
import pytest
from django.db import close_old_connections, connection

from hub.engine.models import Run
from tests.conftest import hook_path, post_hook, using_postgres  # noqa: F401  (the skipif)
from tests.procfile import send

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("not using_postgres()", reason="the check is PostgreSQL's"),
]


class StatementSpy:
    """Counts what the web's own psycopg connection sends to the server (every statement
    Django runs, and the health check's, which bypasses Django's cursor wrappers)."""

    def __init__(self, monkeypatch):
        self.statements: list[str] = []
        original = psycopg.Cursor.execute

        def execute(cursor, query, *args, **kwargs):
            self.statements.append(str(query))
            return original(cursor, query, *args, **kwargs)

        monkeypatch.setattr(psycopg.Cursor, "execute", execute)


def test_a_webhook_on_a_kept_connection_sends_no_health_query(client, hook, sent, monkeypatch):
    assert post_hook(client, hook).status_code == 202  # the connection is open and kept
    # What Django does as each request starts under gunicorn (the test client leaves it out):
    # the next first query runs the health check.
    close_old_connections()
    spy = StatementSpy(monkeypatch)
    assert post_hook(client, hook).status_code == 202
    assert connection.health_check_done
    assert len(spy.statements) == 2, spy.statements  # find the hook, insert the run


def end_other_backends() -> int:
    """What a PostgreSQL restart does to the web's connections, without restarting it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def test_the_webhook_after_the_server_ended_the_webs_connection_is_accepted(hook, web):
    assert send(web, hook_path(hook), body=b'{"x": "before"}')[0] == 202
    assert end_other_backends() >= 1
    time.sleep(0.5)  # the server's goodbye reaches the web's socket

    status, body = send(web, hook_path(hook), body=b'{"x": "after"}')

    assert status == 202, (body, web.log()[-2000:])
    assert sorted(Run.objects.values_list("trigger_data__x", flat=True)) == ["after", "before"]
