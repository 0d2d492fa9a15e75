"""Failure behaviour with real worker processes: a worker killed mid-run, the same message
delivered twice, a 429 storm, a lost message, replay. These run on the embedded defaults
(SQLite + file broker) and on PostgreSQL + Redis; where the two differ (who brings back a
killed worker's message) the test says so."""

from __future__ import annotations

import itertools
import time

import pytest
from django.utils import timezone

from hub.engine.models import Run, StepRun
from hub.engine.runs import replay, start_run
from hub.engine.sweeper import sweep
from tests.conftest import WorkerProcess, make_recipe, slack_connection, slack_step, using_redis

pytestmark = pytest.mark.django_db(transaction=True)

FAST_ENGINE = {
    "ENGINE_RETRY_BASE_SECONDS": "0.2",
    "ENGINE_LEASE_SECONDS": "4",
    "CELERY_VISIBILITY_TIMEOUT": "3",
    "CELERY_UNACKED_RESTORE_INTERVAL": "1",
}


@pytest.fixture
def worker_env(fake_slack):
    return {**fake_slack.settings(), **FAST_ENGINE}


def two_posts(workspace, fake):
    slack_connection(workspace, fake)
    return make_recipe(
        workspace,
        [
            slack_step(fake.general, "first {{ trigger.n }}", key="first"),
            slack_step(fake.general, "second {{ steps.first.ts }}", key="second"),
        ],
    )


def texts(fake):
    return [m["text"] for m in fake.messages[fake.general]]


def wait_for(predicate, timeout=60.0, what="the condition", worker=None, tick=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if tick:
            tick()
        time.sleep(0.1)
    log = worker.log()[-4000:] if worker else ""
    pytest.fail(f"Timed out waiting for {what}.\n{log}")


def finished(run):
    def check():
        run.refresh_from_db()
        return run.finished

    return check


def test_kill_9_mid_run_resumes_without_repeating_done_steps(
    workspace, fake_slack, celery_queue, worker_env, settings
):
    recipe = two_posts(workspace, fake_slack)
    # The first post answers at once; the second hangs long enough to kill the worker in it.
    fake_slack.delay("chat.postMessage", 0, times=1)
    fake_slack.delay("chat.postMessage", 6, times=1)
    first = WorkerProcess(celery_queue, extra_env=worker_env, name="a").start()
    second = None
    try:
        run = start_run(recipe, Run.Source.MANUAL, {"n": 1})
        wait_for(
            lambda: StepRun.objects.filter(run=run, key="second", status="running").exists(),
            what="the second step to start",
            worker=first,
        )
        first.kill()
        second = WorkerProcess(celery_queue, extra_env=worker_env, name="b").start()
        if using_redis():
            # Redis hands the killed worker's unacknowledged message out again after the
            # visibility timeout; the lease makes the new worker wait for the old claim.
            wait_for(finished(run), what="the run to finish", worker=second)
        else:
            # The file broker cannot take a message back: the sweeper finds the expired lease.
            settings.ENGINE_SWEEP_GRACE_SECONDS = 0
            wait_for(finished(run), what="the run to finish", worker=second, tick=sweep)
    finally:
        first.stop()
        if second:
            second.stop()
    assert run.status == "succeeded", run.error
    rows = list(run.steps.order_by("id").values_list("key", "attempt", "status"))
    assert rows[0] == ("first", 1, "succeeded")
    assert [r for r in rows if r[0] == "first"] == [("first", 1, "succeeded")]
    assert rows[1:] == [("second", 1, "interrupted"), ("second", 2, "succeeded")]
    assert texts(fake_slack).count("first 1") == 1


def test_same_message_delivered_twice_executes_once(
    workspace, fake_slack, celery_queue, worker_env
):
    from hub.engine.tasks import execute_run

    recipe = two_posts(workspace, fake_slack)
    fake_slack.delay("chat.postMessage", 0.5)
    worker = WorkerProcess(celery_queue, concurrency=2, extra_env=worker_env).start()
    try:
        run = start_run(recipe, Run.Source.MANUAL, {"n": 2})
        execute_run.apply_async((run.id,))
        execute_run.apply_async((run.id,))
        wait_for(finished(run), what="the run to finish", worker=worker)
        time.sleep(1.5)  # let the extra deliveries land and be ignored
    finally:
        worker.stop()
    assert run.status == "succeeded"
    assert list(run.steps.order_by("id").values_list("key", "attempt", "status")) == [
        ("first", 1, "succeeded"),
        ("second", 1, "succeeded"),
    ]
    assert len(texts(fake_slack)) == 2


def test_429_storm_retries_then_succeeds_honouring_retry_after(
    workspace, fake_slack, celery_worker_process
):
    slack_connection(workspace, fake_slack)
    recipe = make_recipe(workspace, [slack_step(fake_slack.general, "storm", key="notify")])
    fake_slack.rate_limit("chat.postMessage", retry_after=1, times=3)
    run = start_run(recipe, Run.Source.MANUAL, {})
    wait_for(finished(run), what="the run to finish", worker=celery_worker_process)
    assert run.status == "succeeded", run.error
    attempts = list(run.steps.order_by("id"))
    assert [a.status for a in attempts] == ["retrying"] * 3 + ["succeeded"]
    for before, after in itertools.pairwise(attempts):
        waited = (after.started_at - before.finished_at).total_seconds()
        assert waited >= 1.0, f"retried after {waited:.2f} s, before Retry-After"
    calls = fake_slack.calls("chat.postMessage")
    assert [c.status for c in calls] == [429, 429, 429, 200]
    assert texts(fake_slack) == ["storm"]


def test_lost_message_is_finished_by_the_sweeper(
    workspace, fake_slack, celery_worker_process, settings, monkeypatch
):
    from hub.celery import app

    recipe = two_posts(workspace, fake_slack)
    # The broker swallows the first message.
    with monkeypatch.context() as patch:
        patch.setattr(app, "send_task", lambda *a, **k: None)
        run = start_run(recipe, Run.Source.MANUAL, {"n": 3})
    time.sleep(1)
    run.refresh_from_db()
    assert run.status == "queued"
    settings.ENGINE_SWEEP_GRACE_SECONDS = 0
    assert sweep(timezone.now())["resent"] == 1
    wait_for(finished(run), what="the run to finish", worker=celery_worker_process)
    assert run.status == "succeeded"
    assert len(texts(fake_slack)) == 2


def test_failed_run_replays_from_the_failed_step(workspace, fake_slack, celery_worker_process):
    recipe = two_posts(workspace, fake_slack)
    fake_slack.delay("chat.postMessage", 0, times=1)
    fake_slack.fail_next(
        "chat.postMessage", status=200, body={"ok": False, "error": "channel_not_found"}
    )
    run = start_run(recipe, Run.Source.MANUAL, {"n": 4})
    wait_for(finished(run), what="the run to fail", worker=celery_worker_process)
    assert run.status == "failed" and run.failed_step == "second"
    again = replay(run)
    wait_for(finished(again), what="the replay to finish", worker=celery_worker_process)
    assert again.status == "succeeded"
    assert list(again.steps.order_by("id").values_list("key", "status")) == [
        ("first", "succeeded"),
        ("second", "succeeded"),
    ]
    assert texts(fake_slack).count("first 4") == 1


def test_cancel_a_waiting_run_with_a_real_worker(workspace, fake_slack, celery_worker_process):
    from hub.engine.runs import cancel

    slack_connection(workspace, fake_slack)
    recipe = make_recipe(workspace, [slack_step(fake_slack.general, "never", key="notify")])
    fake_slack.rate_limit("chat.postMessage", retry_after=30, times=1)
    run = start_run(recipe, Run.Source.MANUAL, {})
    wait_for(
        lambda: Run.objects.filter(id=run.id, status="waiting").exists(),
        what="the run to wait",
        worker=celery_worker_process,
    )
    assert cancel(run)
    assert run.status == "cancelled"
    assert texts(fake_slack) == []
