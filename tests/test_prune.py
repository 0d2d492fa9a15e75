"""The retention prune deletes in bounded batches, each starting where the last ended."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hub.engine import sweeper
from hub.engine.models import RetentionPolicy, Run, StepRun
from tests.conftest import make_recipe


def test_batches_delete_every_old_finished_run_once_and_nothing_else(workspace, kit, monkeypatch):
    recipe = make_recipe(
        workspace,
        [{"key": "say", "app": "kit", "action": "echo", "config": {"text": "hi"}}],
        trigger={"app": "webhook", "event": "catch"},
    )
    now = timezone.now()
    old = now - timedelta(days=40)

    def add(n, created, status=Run.Status.SUCCEEDED, tag="r"):
        runs = Run.objects.bulk_create(
            Run(
                workspace=workspace,
                recipe=recipe,
                version=recipe.current_version,
                source=Run.Source.WEBHOOK,
                status=status,
                dedupe_key=f"{tag}:{created.isoformat()}:{i}",
                created_at=created,
                finished_at=created if status in Run.FINISHED else None,
            )
            for i in range(n)
        )
        StepRun.objects.bulk_create(
            StepRun(
                run=run,
                key="say",
                position=0,
                app="kit",
                action="echo",
                status="succeeded",
                started_at=created,
            )
            for run in runs
        )

    # Seven share one creation time, so a batch ends in the middle of them.
    add(7, old)
    add(4, old + timedelta(minutes=1), status=Run.Status.FAILED)
    add(2, old - timedelta(days=1), status=Run.Status.WAITING, tag="w")
    add(3, now - timedelta(days=1))
    RetentionPolicy.objects.create(workspace=workspace, days=30)
    monkeypatch.setattr(sweeper, "BATCH", 3)
    with CaptureQueriesContext(connection) as queries:
        assert sweeper.prune() == 11
    assert Run.objects.filter(status=Run.Status.WAITING).count() == 2
    assert Run.objects.filter(created_at__gt=now - timedelta(days=2)).count() == 3
    assert StepRun.objects.count() == 5
    # Each batch reads from where the last ended, bounded by BATCH (4 batches + 1 empty).
    reads = [q["sql"] for q in queries if q["sql"].startswith('SELECT "engine_run"."created_at"')]
    assert len(reads) == 5
