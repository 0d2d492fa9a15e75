from datetime import timedelta

import pytest
from django.utils import timezone

from hub.system import health
from hub.system.models import Heartbeat

pytestmark = pytest.mark.django_db


def beat(component: str, seconds_ago: float) -> None:
    Heartbeat.objects.update_or_create(
        component=component,
        defaults={"beat_at": timezone.now() - timedelta(seconds=seconds_ago)},
    )


def test_healthz_all_ok(client):
    beat("worker", 1)
    beat("scheduler", 1)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "database": "ok",
        "disk": "ok",
        "broker": "ok",
        "worker": "ok",
        "scheduler": "ok",
    }


def test_healthz_stale_scheduler_is_503_with_reason(client, settings):
    beat("worker", 1)
    beat("scheduler", 10 * settings.HEARTBEAT_SECONDS)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["scheduler"].startswith("no scheduler heartbeat for")
    assert body["worker"] == "ok"


def test_healthz_without_worker_says_how_to_start_one(client, monkeypatch):
    beat("scheduler", 1)
    monkeypatch.setattr("hub.celery.app.control.ping", lambda timeout: [])
    body = client.get("/healthz").json()
    assert "start one with" in body["worker"]


def test_healthz_unreachable_broker(client, settings, monkeypatch):
    beat("worker", 1)
    beat("scheduler", 1)
    from kombu import Connection

    from hub.celery import app

    # Nothing listens on port 1: the same failure as a broker that is down.
    monkeypatch.setattr(app, "connection_for_write", lambda: Connection("redis://127.0.0.1:1/0"))
    response = client.get("/healthz")
    assert response.status_code == 503
    reason = response.json()["broker"]
    assert reason.startswith("cannot reach the message broker")
    assert "127.0.0.1:1" not in reason  # no addresses or credentials leak


def test_healthz_database_down(client, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(health.connection, "cursor", broken)
    body = client.get("/healthz").json()
    assert body["database"].startswith("cannot query the database")


def test_status_page_speaks_in_words(admin_client):
    beat("worker", 1)
    page = admin_client.get("/system/").content.decode()
    assert "Database" in page
    assert "Working" in page
    assert "the scheduler has not reported yet" in page
