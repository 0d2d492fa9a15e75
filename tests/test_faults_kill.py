"""kill -9 of a worker mid-run, again and again under a steady load: every run finishes,
none is lost, and no step that completed is run again. On the file broker a killed
worker's messages are gone with it and the sweeper sends those runs again; on Redis the
broker hands them out again after the visibility timeout."""

from __future__ import annotations

import collections
import time

import pytest

from hub.engine.models import Run, StepRun
from hub.engine.runs import start_run
from hub.engine.sweeper import sweep
from tests.conftest import WorkerProcess, make_recipe, slack_connection, slack_step
from tests.test_reliability import FAST_ENGINE

pytestmark = pytest.mark.django_db(transaction=True)

RUNS = 24
KILLS = 3


@pytest.fixture
def worker_env(fake_slack):
    return {**fake_slack.settings(), **FAST_ENGINE}


def test_repeated_kill_9_under_load_loses_nothing_and_repeats_no_done_step(
    workspace, fake_slack, celery_queue, worker_env, settings
):
    slack_connection(workspace, fake_slack)
    recipe = make_recipe(
        workspace,
        [
            slack_step(fake_slack.general, "first {{ trigger.n }}", key="first"),
            slack_step(fake_slack.general, "second {{ trigger.n }}", key="second"),
        ],
    )
    # Every post takes a moment, so a kill always finds steps in flight.
    fake_slack.delay("chat.postMessage", 0.3)
    runs = [start_run(recipe, Run.Source.MANUAL, {"n": n}) for n in range(RUNS)]
    ids = [r.id for r in runs]
    settings.ENGINE_SWEEP_GRACE_SECONDS = 0
    worker = WorkerProcess(celery_queue, concurrency=4, extra_env=worker_env, name="w0").start()
    kills = 0
    try:
        for kills in range(1, KILLS + 1):
            deadline = time.monotonic() + 60
            while not StepRun.objects.filter(run_id__in=ids, status="running").exists():
                assert time.monotonic() < deadline, worker.log()[-3000:]
                sweep()
                time.sleep(0.05)
            worker.kill()
            worker = WorkerProcess(
                celery_queue, concurrency=4, extra_env=worker_env, name=f"w{kills}"
            ).start()
        deadline = time.monotonic() + 120
        while Run.objects.filter(id__in=ids, status__in=Run.ACTIVE).exists():
            assert time.monotonic() < deadline, worker.log()[-3000:]
            sweep()  # finds expired leases and lost messages
            time.sleep(0.2)
    finally:
        fake_slack.delay("chat.postMessage", 0)
        worker.stop()
    assert kills == KILLS
    statuses = collections.Counter(Run.objects.filter(id__in=ids).values_list("status", flat=True))
    assert statuses == {"succeeded": RUNS}
    done = collections.Counter(
        StepRun.objects.filter(run_id__in=ids, status="succeeded").values_list("run_id", "key")
    )
    assert set(done.values()) == {1}  # each step of each run completed exactly once
    assert len(done) == 2 * RUNS
    interrupted = StepRun.objects.filter(run_id__in=ids, status="interrupted").count()
    assert interrupted >= 1  # the kills did land mid-step
    posted = collections.Counter(m["text"] for m in fake_slack.messages[fake_slack.general])
    for n in range(RUNS):
        assert posted[f"second {n}"] >= 1 and posted[f"first {n}"] >= 1
