"""Housekeeping that makes "nothing accepted is ever dropped" true, and keeps history bounded.

``sweep`` (every ENGINE_SWEEP_SECONDS):
- a queued run whose message was last sent more than ENGINE_SWEEP_GRACE_SECONDS ago (broker
  down, message lost) is sent again;
- a waiting run whose resume time passed that long ago is sent again;
- a running run whose lease expired (its worker died) is sent again;
- an unfinished run past its deadline fails.
Sending a run twice is harmless: the lease lets one worker execute it.

``prune`` (hourly) deletes finished runs older than the workspace's retention, and dedupe
keys older than ENGINE_DEDUPE_DAYS: each by its own rule, so exactly-once outlives run
history.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from hub.accounts.models import Workspace
from hub.engine import run_counts
from hub.engine.dispatch import enqueue
from hub.engine.messages import Message, gettext_noop
from hub.engine.models import DedupeKey, RetentionPolicy, Run, StepRun

log = logging.getLogger(__name__)

BATCH = 500


_OVERDUE = Message(gettext_noop("The run took longer than allowed and was stopped."))
_TIMED_OUT = Message(gettext_noop("The run timed out."))


def sweep(now=None) -> dict:
    now = now or timezone.now()
    grace = now - timedelta(seconds=settings.ENGINE_SWEEP_GRACE_SECONDS)

    overdue = Run.objects.filter(status__in=Run.ACTIVE, deadline__lt=now).filter(
        Q(lease_expires__isnull=True) | Q(lease_expires__lt=now)
    )
    timed_out = list(overdue.values_list("id", flat=True)[:BATCH])
    if timed_out:
        Run.objects.filter(id__in=timed_out, status__in=Run.ACTIVE).filter(
            Q(lease_expires__isnull=True) | Q(lease_expires__lt=now)
        ).update(
            status=Run.Status.FAILED,
            error=str(_OVERDUE),
            error_message=_OVERDUE.to_json(),
            finished_at=now,
            lease_owner="",
            lease_expires=None,
        )
        StepRun.objects.filter(
            run_id__in=timed_out,
            status__in=[StepRun.Status.RUNNING, StepRun.Status.WAITING, StepRun.Status.RETRYING],
        ).update(
            status=StepRun.Status.FAILED,
            error=str(_TIMED_OUT),
            error_message=_TIMED_OUT.to_json(),
            finished_at=now,
        )

    lost = Run.objects.filter(
        Q(status=Run.Status.QUEUED, enqueued_at__lt=grace)
        | Q(status=Run.Status.WAITING, resume_at__lt=grace, enqueued_at__lt=grace)
        | Q(status=Run.Status.RUNNING, lease_expires__lt=now, enqueued_at__lt=grace)
    ).exclude(id__in=timed_out)
    resent = list(lost.values_list("id", flat=True)[:BATCH])
    for run_id in resent:
        log.info("Sweeper: sending run %s again", run_id)
        enqueue(run_id)
    return {"resent": len(resent), "timed_out": len(timed_out)}


def retention_days(workspace: Workspace) -> int:
    policy = RetentionPolicy.objects.filter(workspace=workspace).first()
    return policy.days if policy else settings.ENGINE_RUN_RETENTION_DAYS


def prune(now=None) -> int:
    """Delete finished runs older than each workspace's retention, with their step records;
    returns how many runs went."""
    now = now or timezone.now()
    policies = dict(RetentionPolicy.objects.values_list("workspace_id", "days"))
    deleted = 0
    for workspace_id in Workspace.objects.values_list("id", flat=True):
        days = policies.get(workspace_id, settings.ENGINE_RUN_RETENTION_DAYS)
        cutoff = now - timedelta(days=days)
        # A run finished before the cutoff was created before it too: the created_at bound
        # lets each batch read the (workspace, created_at) index instead of every run.
        old = Run.objects.filter(
            workspace_id=workspace_id,
            created_at__lt=cutoff,
            status__in=Run.FINISHED,
            finished_at__lt=cutoff,
        )
        pruned = _delete_in_batches(old)
        if pruned:
            run_counts.forget(workspace_id, before=run_counts.slot_of(cutoff) + run_counts.SLOT)
        deleted += pruned
    prune_dedupe_keys(now)
    return deleted


def _delete_in_batches(rows) -> int:
    """Delete ``rows`` (runs or dedupe keys) oldest first, ``BATCH`` at a time, each batch
    its own transaction; returns how many went.

    Each batch starts where the last one ended — (created_at, id) past the last run seen —
    rather than at the oldest run again, whose index entries the batches before left dead:
    every batch reads about ``BATCH`` entries, however many went before. A batch's locks are
    on the rows it deletes, which no worker touches (finished runs, expired keys), and are
    let go at its commit."""
    model = rows.model
    deleted = 0
    after = None
    while True:
        batch = rows.order_by("created_at", "id")
        if after is not None:
            moment, pk = after
            # The >= bound is what the index range starts at; the rest breaks ties.
            batch = batch.filter(created_at__gte=moment).exclude(created_at=moment, id__lte=pk)
        found = list(batch.values_list("created_at", "id")[:BATCH])
        if not found:
            return deleted
        after = found[-1]
        with transaction.atomic():
            # only("id"): the collector reads the rows it deletes, and needs nothing but ids.
            gone = model.objects.filter(id__in=[pk for _at, pk in found]).only("id").delete()
        deleted += gone[1].get(model._meta.label, 0)


def prune_dedupe_keys(now=None) -> int:
    """Forget events older than ENGINE_DEDUPE_DAYS. A key whose run is still kept goes on
    deduping through the run's own unique ``dedupe_key``."""
    now = now or timezone.now()
    expired = DedupeKey.objects.filter(
        created_at__lt=now - timedelta(days=settings.ENGINE_DEDUPE_DAYS)
    )
    return _delete_in_batches(expired)
