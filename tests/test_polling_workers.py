"""Polls under concurrency and crashes: two polls of one trigger at once, two ticks at once,
and a real worker killed with SIGKILL in the middle of a poll. Nothing is lost or doubled.

The concurrent tests need PostgreSQL (row locks and SKIP LOCKED; SQLite serializes writers
instead). The kill -9 test runs on both setups: on Redis the killed worker's poll message
comes back after the visibility timeout, and everywhere the poll lease runs out and the tick
sends the poll again."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection as db_connection
from django.utils import timezone

from hub.connections.models import Connection
from hub.engine import polling
from hub.engine.models import Run, TriggerState
from tests.conftest import WorkerProcess, using_postgres  # noqa: F401  (read by skipif)
from tests.fakes.gmail import FakeGoogle
from tests.test_polling import gmail_recipe

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def google(settings):
    with FakeGoogle() as fake:
        for key, value in fake.settings().items():
            setattr(settings, key, value)
        yield fake


@pytest.fixture
def mailbox(workspace, google):
    connection = Connection(workspace=workspace, integration="gmail", label="Sales Gmail")
    connection.set_tokens(google.issue_token(), None, None)
    connection.save()
    return connection


def seeded(workspace, query="subject:order"):
    recipe = gmail_recipe(workspace, {"query": query})
    state = TriggerState.objects.get(recipe=recipe)
    polling.poll_trigger(state.pk)
    return recipe, state


def fired_ids(recipe):
    return list(
        Run.objects.filter(recipe=recipe).order_by("id").values_list("trigger_data__id", flat=True)
    )


def at_once(count, work):
    barrier = threading.Barrier(count)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(work())
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            db_connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return results


@pytest.mark.skipif("not using_postgres()", reason="row locks need PostgreSQL")
def test_two_polls_at_once_fire_one_run_per_item(workspace, mailbox, google):
    recipe, state = seeded(workspace)
    burst = google.burst(40)
    google.delay("history.list", 0.5, times=1)  # the first poll holds the lock a while
    results = at_once(2, lambda: polling.poll_trigger(state.pk))
    assert sorted(results) == ["fired 0", "fired 40"]
    assert fired_ids(recipe) == [m["id"] for m in burst]
    # The second poll waited for the first and started from its cursor: nothing re-fetched.
    assert len(google.calls("messages.get")) == 40


@pytest.mark.skipif("not using_postgres()", reason="SKIP LOCKED needs PostgreSQL")
def test_two_ticks_at_once_send_each_due_poll_once(workspace, mailbox, google, monkeypatch):
    from celery import current_app

    recipes = [gmail_recipe(workspace, name=f"Mail {n}") for n in range(30)]
    sent = []
    monkeypatch.setattr(current_app, "send_task", lambda name, args=(), **kw: sent.append(args))
    counts = at_once(2, polling.dispatch_due)
    assert sum(counts) == 30
    states = set(TriggerState.objects.filter(recipe__in=recipes).values_list("id", flat=True))
    assert sorted(a[0] for a in sent) == sorted(states)


@pytest.fixture
def worker_env(google):
    return {
        **google.settings(),
        "TRIGGER_POLL_LEASE_SECONDS": "2",
        "CELERY_VISIBILITY_TIMEOUT": "3",
        "CELERY_UNACKED_RESTORE_INTERVAL": "1",
    }


def test_kill_9_mid_poll_loses_and_doubles_nothing(
    workspace, mailbox, google, celery_queue, worker_env, settings
):
    settings.TRIGGER_POLL_LEASE_SECONDS = 2
    settings.TRIGGER_POLL_MAX_ITEMS = 100
    recipe, state = seeded(workspace)
    burst = google.burst(150)
    TriggerState.objects.filter(pk=state.pk).update(next_fire_at=timezone.now())
    # Each fetch answers late, so the first poll is still fetching when the worker dies.
    google.delay("messages.get", 0.05)
    first = WorkerProcess(celery_queue, extra_env=worker_env, name="a").start()
    second = None
    try:
        assert polling.dispatch_due() == 1
        deadline = time.monotonic() + 60
        while len(google.calls("messages.get")) < 30:
            assert time.monotonic() < deadline, first.log()[-3000:]
            time.sleep(0.05)
        first.kill()
        assert Run.objects.filter(recipe=recipe).count() == 0  # its transaction never committed
        google.delay("messages.get", 0)
        second = WorkerProcess(celery_queue, extra_env=worker_env, name="b").start()
        deadline = time.monotonic() + 90
        while (
            len(fired_ids(recipe)) < 150
            or TriggerState.objects.get(pk=state.pk).next_fire_at <= timezone.now()
        ):
            assert time.monotonic() < deadline, second.log()[-3000:]
            polling.dispatch_due()  # the tick
            time.sleep(0.3)
    finally:
        first.stop()
        if second:
            second.stop()
    assert fired_ids(recipe) == [m["id"] for m in burst]
