"""An app outage with a real worker process, the fast version of bench/faults.py's soak:
Slack answers 503 to every post, then a 429 storm with Retry-After, switched at runtime
through the fake's control endpoint (as the bench switches a fake in another process).
Whatever the app answers, every run finishes — posted once, or failed saying it gave up —
and no step is tried more often than ENGINE_MAX_ATTEMPTS.

The Procfile's scheduler runs beside the worker, as in every deployment: with this policy's
3 s visibility timeout a backoff over 1.5 s is parked in the database without a message, and
the scheduler's tick sends it (docs/engine.md, "Waits")."""

from __future__ import annotations

import collections
import itertools
import time

import pytest
import requests

from hub.engine.models import Run, StepRun
from hub.engine.runs import start_run
from tests.conftest import ROOT, WorkerProcess, make_recipe, slack_connection, slack_step
from tests.procfile import ProcfileProcess

pytestmark = pytest.mark.django_db(transaction=True)

MAX_ATTEMPTS = 4
RUNS = 6
POLICY = {
    "ENGINE_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
    "ENGINE_RETRY_BASE_SECONDS": "0.4",
    "ENGINE_LEASE_SECONDS": "4",
    "CELERY_VISIBILITY_TIMEOUT": "3",
    "CELERY_UNACKED_RESTORE_INTERVAL": "1",
    # Every run posts to one channel: the hub's own 1 message/s limit would hold the posts
    # back before the app sees them; here the app's answers are under test.
    "RATE_LIMIT_SLACK_CHAT_POSTMESSAGE": "1000/second",
}


@pytest.fixture
def worker(celery_queue, fake_slack, settings):
    settings.ENGINE_MAX_ATTEMPTS = MAX_ATTEMPTS
    env = {**fake_slack.settings(), **POLICY}
    process = WorkerProcess(celery_queue, concurrency=4, extra_env=env).start()
    scheduler = ProcfileProcess(
        "scheduler",
        ROOT / "var" / f"scheduler-{celery_queue}.log",
        env={**env, "CELERY_QUEUE": celery_queue},
    ).start()
    scheduler.wait_for("beat: Starting")
    yield process
    scheduler.stop()
    process.stop()


def switch(fake, **order):
    """Switch the fake's faults over HTTP, the way a fake in another process is switched."""
    answer = requests.post(f"{fake.origin}/_fake/faults", json=order, timeout=10)
    assert answer.status_code == 200, answer.text


def start_runs(workspace, fake, tag: str) -> list[Run]:
    slack_connection(workspace, fake)
    recipe = make_recipe(workspace, [slack_step(fake.general, "{{ trigger.text }}", key="post")])
    return [start_run(recipe, Run.Source.MANUAL, {"text": f"{tag}{i}"}) for i in range(RUNS)]


def wait_until(predicate, worker, what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    pytest.fail(f"Timed out waiting for {what}.\n{where_runs_are()}\n{worker.log()[-4000:]}")


def where_runs_are() -> str:
    """Each run's state and attempts, so a timeout says which run stopped where."""
    lines = []
    for run in Run.objects.order_by("id"):
        lines.append(
            f"run {run.id} {run.status} resume_at={run.resume_at} enqueued_at={run.enqueued_at}"
            f" lease={run.lease_owner}@{run.lease_expires}"
            f" for={run.enqueued_for} error={run.error[:120]!r}"
        )
        for step in StepRun.objects.filter(run=run).order_by("attempt", "id"):
            lines.append(
                f"  {step.key}#{step.attempt} {step.status} {step.started_at} "
                f"{step.finished_at} {step.error[:100]!r}"
            )
    return "\n".join(lines)


def all_finished(runs):
    return not Run.objects.filter(id__in=[r.id for r in runs], status__in=Run.ACTIVE).exists()


def calls_per_text(fake) -> dict[str, collections.Counter]:
    per_text: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for call in fake.calls("chat.postMessage"):
        per_text[call.body["text"]][call.status] += 1
    return per_text


def attempts_of(run) -> list[StepRun]:
    return list(StepRun.objects.filter(run=run, key="post").order_by("attempt", "id"))


def test_app_down_throughout_every_run_gives_up_after_the_policy_saying_why(
    workspace, fake_slack, worker
):
    switch(fake_slack, fail={"route": "chat.postMessage", "status": 503, "times": None})
    runs = start_runs(workspace, fake_slack, "down-")
    wait_until(lambda: all_finished(runs), worker, "every run to finish")

    for run in runs:
        run.refresh_from_db()
        assert run.status == "failed"
        assert f"gave up after {MAX_ATTEMPTS} attempts" in run.error, run.error
        assert [a.status for a in attempts_of(run)] == ["retrying"] * (MAX_ATTEMPTS - 1) + [
            "failed"
        ]
    per_text = calls_per_text(fake_slack)
    assert {text: dict(c) for text, c in per_text.items()} == {
        f"down-{i}": {503: MAX_ATTEMPTS} for i in range(RUNS)
    }
    assert fake_slack.messages[fake_slack.general] == []
    # The control endpoint counts what the fake answered, for a bench in another process.
    counted = requests.get(
        f"{fake_slack.origin}/_fake/faults",
        params={"route": "chat.postMessage", "field": "text"},
        timeout=10,
    ).json()["calls"]
    assert counted == {f"down-{i}": {"503": MAX_ATTEMPTS} for i in range(RUNS)}


def test_outage_then_429_storm_every_run_finishes_within_the_policy_posted_at_most_once(
    workspace, fake_slack, worker
):
    switch(fake_slack, fail={"route": "chat.postMessage", "status": 503, "times": None})
    runs = start_runs(workspace, fake_slack, "storm-")
    wait_until(
        lambda: (
            StepRun.objects.filter(run__in=runs, status="retrying").values("run").distinct().count()
            == RUNS
        ),
        worker,
        "every run to have met the outage",
    )
    # The app comes back rate limiting: the next posts are answered 429 with Retry-After.
    switch(fake_slack, clear=True)
    switch(fake_slack, rate_limit={"route": "chat.postMessage", "retry_after": 1, "times": RUNS})
    wait_until(lambda: all_finished(runs), worker, "every run to finish")

    per_text = calls_per_text(fake_slack)
    assert sum(c[429] for c in per_text.values()) == RUNS, "the storm was met"
    posted = collections.Counter(m["text"] for m in fake_slack.messages[fake_slack.general])
    for run in runs:
        run.refresh_from_db()
        text = run.trigger_data["text"]
        attempts = attempts_of(run)
        assert len(attempts) <= MAX_ATTEMPTS
        assert sum(per_text[text].values()) == len(attempts) <= MAX_ATTEMPTS
        if run.status == "succeeded":
            assert posted[text] == 1 and attempts[-1].status == "succeeded"
        else:
            assert run.status == "failed", run.status
            assert f"gave up after {MAX_ATTEMPTS} attempts" in run.error, run.error
            assert posted[text] == 0
        for before, after in itertools.pairwise(attempts):
            if "limiting requests" in before.error:  # the app's 429
                waited = (after.started_at - before.finished_at).total_seconds()
                assert waited >= 1.0, f"retried {waited:.2f} s after a 429, before Retry-After"
    assert sum(posted.values()) == sum(1 for r in runs if r.status == "succeeded") >= 1
