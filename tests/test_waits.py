"""Waiting runs: what is handed to the broker and what is parked in the database.

A wait (a delay step, a retry's backoff) shorter than the broker message limit is sent with a
countdown; a longer one stays in the database and the tick sends it once, when it is nearly
due. A message that comes before its run's resume time is sent again for that time."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from hub.celery import app as celery_app
from hub.engine import dispatch, tasks
from hub.engine.executor import execute
from hub.engine.models import Run, StepRun
from hub.engine.runs import start_run
from tests.conftest import make_recipe

DAYS_3 = 3 * 86400


@pytest.fixture
def sent(monkeypatch):
    """Messages handed to Celery: (run_id, countdown, task kwargs)."""
    calls = []
    lock = threading.Lock()

    def send_task(name, args=None, kwargs=None, **options):
        assert name == tasks.execute_run.name  # sent by name: the name is the task's
        with lock:
            calls.append((args[0], options.get("countdown"), kwargs or {}))

    monkeypatch.setattr(celery_app, "send_task", send_task)
    return calls


def deliver(message):
    """Run the task body as a worker would for a message captured by ``sent``."""
    run_id, _countdown, kwargs = message
    return tasks.execute_run.run(run_id, **kwargs)


def at(monkeypatch, moment):
    """Pretend the clock reads ``moment``."""
    monkeypatch.setattr(timezone, "now", lambda: moment)


def waiting_recipe(workspace, seconds):
    return make_recipe(
        workspace,
        [
            {"key": "pause", "app": "kit", "action": "wait", "config": {"seconds": seconds}},
            {"key": "after", "app": "kit", "action": "echo", "config": {}},
        ],
    )


def park(recipe, capture):
    run = start_run(recipe, Run.Source.MANUAL, {})
    with capture(execute=True):
        assert execute(run.id) == "waiting"
    run.refresh_from_db()
    return run


def test_early_message_is_sent_again_for_the_resume_time(
    workspace, kit, sent, monkeypatch, django_capture_on_commit_callbacks
):
    run = park(waiting_recipe(workspace, 60), django_capture_on_commit_callbacks)
    message = sent[-1]
    assert message[0] == run.id and 55 < message[1] <= 60
    resume_at = run.resume_at

    # The message arrives 2 s before the resume time (a clock ahead, a redelivery).
    at(monkeypatch, resume_at - timedelta(seconds=2))
    with django_capture_on_commit_callbacks(execute=True):
        deliver(message)
    run.refresh_from_db()
    assert run.status == "waiting" and run.resume_at == resume_at
    again = sent[-1]
    assert len(sent) == 2 and again[0] == run.id and again[1] == pytest.approx(2.0)

    # That message resumes the run at its time; nothing else (no sweeper) is needed.
    at(monkeypatch, resume_at)
    assert deliver(again) == "succeeded"
    assert kit.calls[:2] == [("pause", {"resumed": False}), ("pause", {"resumed": True})]
    assert len(sent) == 2


def test_a_stray_early_message_adds_no_second_message(
    workspace, kit, sent, monkeypatch, django_capture_on_commit_callbacks
):
    """A message sent for nothing in particular (a sweep, a redelivery of an older wait)
    arriving early is dropped while the message for this resume time is on its way."""
    run = park(waiting_recipe(workspace, 60), django_capture_on_commit_callbacks)
    at(monkeypatch, run.resume_at - timedelta(seconds=2))
    with django_capture_on_commit_callbacks(execute=True):
        assert execute(run.id) == "not-due"
    assert len(sent) == 1


def test_a_three_day_delay_creates_no_broker_message(
    workspace, kit, sent, django_capture_on_commit_callbacks, settings
):
    run = park(waiting_recipe(workspace, DAYS_3), django_capture_on_commit_callbacks)
    assert run.status == "waiting"
    assert run.resume_at > timezone.now() + timedelta(days=2, hours=23)
    assert sent == []
    assert StepRun.objects.get(run=run).status == "waiting"


def test_the_tick_sends_a_parked_run_once_when_due(
    workspace, kit, sent, monkeypatch, django_capture_on_commit_callbacks
):
    from hub.engine.scheduler import wake

    run = park(waiting_recipe(workspace, DAYS_3), django_capture_on_commit_callbacks)
    resume_at = run.resume_at
    window = dispatch.wait_enqueue_seconds()
    with django_capture_on_commit_callbacks(execute=True):
        assert wake(timezone.now()) == 0
        assert wake(resume_at - timedelta(seconds=window + 5)) == 0
    assert sent == []

    with django_capture_on_commit_callbacks(execute=True):
        assert wake(resume_at - timedelta(seconds=60)) == 1
        assert wake(resume_at - timedelta(seconds=55)) == 0
        assert wake(resume_at) == 0
    assert len(sent) == 1
    assert sent[0][0] == run.id and sent[0][1] == pytest.approx(60)

    at(monkeypatch, resume_at)
    assert deliver(sent[0]) == "succeeded"
    assert len(sent) == 1


def test_the_beat_tick_task_wakes_parked_runs(
    workspace, kit, sent, django_capture_on_commit_callbacks
):
    run = park(waiting_recipe(workspace, DAYS_3), django_capture_on_commit_callbacks)
    soon = timezone.now() + timedelta(seconds=10)
    Run.objects.filter(id=run.id).update(resume_at=soon)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.tick.run()
    assert [m[0] for m in sent] == [run.id]


def test_a_long_retry_backoff_is_parked_in_the_database(
    workspace, kit, sent, settings, django_capture_on_commit_callbacks
):
    from hub.engine.scheduler import wake

    settings.ENGINE_WAIT_ENQUEUE_SECONDS = 300
    kit.failures["call"] = 1
    recipe = make_recipe(
        workspace,
        [{"key": "call", "app": "kit", "action": "flaky", "config": {"retry_after": 900}}],
    )
    run = park(recipe, django_capture_on_commit_callbacks)
    assert run.resume_at >= timezone.now() + timedelta(seconds=890)
    assert sent == []
    with django_capture_on_commit_callbacks(execute=True):
        assert wake(run.resume_at - timedelta(seconds=100)) == 1
    assert [m[0] for m in sent] == [run.id]


def test_the_message_limit_stays_under_the_visibility_timeout(settings):
    settings.ENGINE_WAIT_ENQUEUE_SECONDS = 300
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
    assert dispatch.wait_enqueue_seconds() == 300
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 120}
    assert dispatch.wait_enqueue_seconds() == 60


def test_an_early_message_for_a_long_wait_is_not_sent_again(
    workspace, kit, sent, monkeypatch, django_capture_on_commit_callbacks
):
    """A message for a parked run, however it came, never turns into a long countdown: the
    run stays parked and the tick sends it when it is nearly due."""
    from hub.engine.scheduler import wake

    run = park(waiting_recipe(workspace, DAYS_3), django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        assert execute(run.id) == "parked"
    assert sent == []
    with django_capture_on_commit_callbacks(execute=True):
        assert wake(run.resume_at - timedelta(seconds=30)) == 1
    assert len(sent) == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_ticks_send_each_parked_run_once(workspace, kit, sent):
    from django.db import connection

    from hub.engine.scheduler import wake

    recipe = waiting_recipe(workspace, DAYS_3)
    runs = [start_run(recipe, Run.Source.MANUAL, {}) for _ in range(10)]
    for run in runs:
        assert execute(run.id) == "waiting"
    sent.clear()  # the runs' first messages
    now = timezone.now()
    Run.objects.filter(id__in=[r.id for r in runs]).update(resume_at=now + timedelta(seconds=30))
    barrier = threading.Barrier(2)
    counts, errors = [], []

    def ticker():
        try:
            barrier.wait()
            counts.append(wake(now))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=ticker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert sum(counts) == 10
    assert sorted(m[0] for m in sent) == sorted(r.id for r in runs)


@pytest.mark.django_db(transaction=True)
def test_early_message_resumes_the_run_with_a_real_worker(
    workspace, celery_worker_process, monkeypatch
):
    """Through a real worker: a message arriving about 2 s before the resume time is not
    dropped; the run goes on at its time without the sweeper."""
    import time

    recipe = make_recipe(
        workspace,
        [
            {
                "key": "pause",
                "app": "builtin",
                "action": "delay",
                "config": {"mode": "for", "amount": "0.05", "unit": "minutes"},
            },
            {
                "key": "shout",
                "app": "builtin",
                "action": "formatter",
                "config": {"operation": "text_upper", "input": "done"},
            },
        ],
    )
    # Park the run here, with its message lost, then deliver one early from the outside.
    with monkeypatch.context() as patch:
        patch.setattr(celery_app, "send_task", lambda *a, **k: None)
        run = start_run(recipe, Run.Source.MANUAL, {})
        assert execute(run.id) == "waiting"
    run.refresh_from_db()
    resume_at = run.resume_at
    assert resume_at - timezone.now() > timedelta(seconds=2)
    tasks.execute_run.apply_async((run.id,), kwargs={"due": resume_at.isoformat()})

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.finished:
            break
        time.sleep(0.1)
    assert run.status == "succeeded", celery_worker_process.log()[-3000:]
    pause = StepRun.objects.get(run=run, key="pause")
    assert pause.status == "succeeded" and pause.finished_at >= resume_at
    assert list(run.steps.values_list("key", "status")) == [
        ("pause", "succeeded"),
        ("shout", "succeeded"),
    ]
