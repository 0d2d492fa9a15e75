"""The rate limiter across processes, for real: a Celery worker with two pool processes runs
fifteen recipes that read a Notion page (two Notion requests each, thirty in all) on one
connection, with the windows in Redis (the broker), and the fake's request log shows no
one-second window with more than Notion's three requests for that connection.

Needs PostgreSQL and Redis (DATABASE_URL, CELERY_BROKER_URL): SQLite and the file broker run
the file-backed windows, covered in tests/test_ratelimit.py."""

from __future__ import annotations

import time
from itertools import pairwise
from pathlib import Path

import pytest

from hub.connections.models import Connection
from hub.engine.models import Run, StepRun
from hub.engine.runs import start_run
from tests.conftest import WorkerProcess, make_recipe, using_postgres, using_redis
from tests.fakes.notion import FakeNotion
from tests.test_ratelimit import busiest_second

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("not (using_postgres() and using_redis())"),
]

RUNS = 15


def pool_processes(parent: int) -> list[int]:
    """The pids whose parent is ``parent`` (the worker's pool), from /proc."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            children.append(int(stat.parent.name))
    return children


@pytest.fixture
def fake_notion(settings):
    with FakeNotion() as fake:
        for key, value in fake.settings().items():
            setattr(settings, key, value)
        yield fake


def test_two_worker_processes_keep_notion_at_three_requests_a_second(
    workspace, fake_notion, celery_queue, settings
):
    assert using_postgres() and using_redis()
    token = fake_notion.issue_token()
    connection = Connection(workspace=workspace, integration="notion", label="Acme Notion")
    connection.set_tokens(token, None, None)
    connection.save()
    page = fake_notion.add_page(
        "", "Meeting notes", blocks=[{"type": "paragraph", "paragraph": {"rich_text": []}}]
    )
    recipe = make_recipe(
        workspace,
        [
            {
                "key": "notes",
                "app": "notion",
                "action": "get_page_content",
                "connection": "Acme Notion",
                "config": {"page": page["id"]},
            }
        ],
    )
    worker = WorkerProcess(
        celery_queue,
        concurrency=2,
        extra_env={
            **fake_notion.settings(),
            # Processes, not the default thread pool: the windows must hold across processes.
            "CELERY_WORKER_POOL": "prefork",
            "RATE_LIMIT_STORAGE": settings.CELERY_BROKER_URL,
            "RATE_LIMIT_NOTION": "3/second",
            "ENGINE_RETRY_BASE_SECONDS": "0.2",
        },
    ).start()
    try:
        assert len(pool_processes(worker.process.pid)) == 2
        fake_notion.log.clear()
        runs = [start_run(recipe, Run.Source.MANUAL, {"n": n}) for n in range(RUNS)]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            done = Run.objects.filter(id__in=[r.id for r in runs], status__in=Run.FINISHED)
            if done.count() == RUNS:
                break
            time.sleep(0.5)
        else:
            pytest.fail(f"The runs did not finish. Worker log:\n{worker.log()[-4000:]}")
    finally:
        worker.stop()
    statuses = set(Run.objects.filter(id__in=[r.id for r in runs]).values_list("status", flat=True))
    assert statuses == {Run.Status.SUCCEEDED}
    calls = [c for c in fake_notion.calls() if c.token == token]
    # Two requests a run; a run whose second request was told to come back later repeats
    # its first when the step is retried, so there may be a few more.
    assert len(calls) >= 2 * RUNS
    stamps = [c.at for c in calls]
    assert busiest_second(stamps) <= 3
    # Both pool processes worked at once: some step attempts overlap in time, which one
    # prefork process, running one task at a time, cannot do.
    spans = sorted(StepRun.objects.filter(run__in=runs).values_list("started_at", "finished_at"))
    assert any(later[0] < earlier[1] for earlier, later in pairwise(spans))
    span = max(stamps) - min(stamps)
    print(f"\n{len(stamps)} Notion requests in {span:.2f} s: {len(stamps) / span:.2f}/s")
