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
from django.db.models import Q
from django.utils import timezone

from hub.accounts.models import Workspace
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
        while ids := list(old.values_list("id", flat=True)[:BATCH]):
            deleted += Run.objects.filter(id__in=ids).delete()[1].get("engine.Run", 0)
    prune_dedupe_keys(now)
    return deleted


def prune_dedupe_keys(now=None) -> int:
    """Forget events older than ENGINE_DEDUPE_DAYS. A key whose run is still kept goes on
    deduping through the run's own unique ``dedupe_key``."""
    now = now or timezone.now()
    expired = DedupeKey.objects.filter(
        created_at__lt=now - timedelta(days=settings.ENGINE_DEDUPE_DAYS)
    )
    deleted = 0
    while ids := list(expired.values_list("id", flat=True)[:BATCH]):
        deleted += DedupeKey.objects.filter(id__in=ids).delete()[0]
    return deleted
