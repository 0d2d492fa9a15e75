"""Disk full under HUB_VAR_DIR (and a database out of reach): /healthz and the System status
page say so, webhooks are refused with a 503 the sender can retry (nothing accepted that
could not be recorded), and the hub recovers by itself when space returns."""

from __future__ import annotations

import pytest
from django.db import OperationalError

from hub.engine.models import Run
from hub.system import disk
from tests.conftest import post_hook


@pytest.fixture
def disk_full(settings):
    """Ask for more free space than the disk has: the hub's own reading of the disk then
    finds it short, as on a full disk."""
    disk.forget()
    settings.HUB_MIN_FREE_MB = 10**9
    yield settings
    disk.forget()


def test_disk_full_refuses_webhooks_with_503_then_recovers(client, hook, disk_full):
    refused = post_hook(client, hook)
    assert refused.status_code == 503
    assert refused["Retry-After"] == "60"
    assert "disk space" in refused.json()["error"]
    assert not Run.objects.exists()

    disk_full.HUB_MIN_FREE_MB = 1  # space came back
    disk.forget()
    accepted = post_hook(client, hook)
    assert accepted.status_code == 202
    assert Run.objects.count() == 1


def test_healthz_and_status_page_report_the_disk(client, admin_client, disk_full):
    health = client.get("/healthz")
    assert health.status_code == 503
    reason = health.json()["disk"]
    assert "MB free" in reason and "free some space" in reason
    page = admin_client.get("/system/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Disk space" in text and "free some space" in text

    disk_full.HUB_MIN_FREE_MB = 1
    disk.forget()
    assert client.get("/healthz").json()["disk"] == "ok"


def test_a_database_full_error_while_accepting_is_a_503_not_a_500(client, hook, monkeypatch):
    from hub.engine import runs

    def full(values):
        raise OperationalError("database or disk is full")

    monkeypatch.setattr(runs._INSERT_RUN, "insert", full)
    response = post_hook(client, hook)
    assert response.status_code == 503
    assert not Run.objects.exists()


def test_other_database_errors_are_not_taken_for_a_full_disk():
    assert disk.is_disk_full(OperationalError("database or disk is full"))
    assert disk.is_disk_full(OSError(28, "No space left on device"))
    assert not disk.is_disk_full(OperationalError("no such table: engine_run"))


def test_an_unreachable_database_is_a_503_with_retry_after(client, hook, monkeypatch):
    from hub.web import webhooks

    def gone(public_id):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(webhooks._HOOK, "first", gone)
    response = post_hook(client, hook)
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "cannot reach its database" in response.json()["error"]
