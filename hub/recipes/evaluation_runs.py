"""The "Run evaluations" and "Compare" buttons as background work, and Publish's check.

An evaluation makes one model call per AI step and case (more with judge checks and repair
attempts), each up to the provider's timeout: fifty cases can take minutes, longer than a
web request should be held open. So the page records an ``EvalRun`` and a worker runs it
(``hub.recipes.tasks.run_evaluation``); the page follows it until the results are in.

Publish uses the newest comparison of *this* draft, on *these* cases, with the version that
is live now; when there is none it starts one and the publish panel waits for it.
"""

from __future__ import annotations

import hashlib
import json
import logging

from celery import current_app
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hub.llm.models import EvalCase, EvalRun
from hub.recipes import evaluations

log = logging.getLogger(__name__)

RUN_EVALUATION = "hub.recipes.tasks.run_evaluation"


def _hash(value) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def draft_of(recipe) -> dict:
    """The document "the draft" stands for: the draft, or the live version when there is no
    separate draft."""
    if recipe.draft:
        return recipe.draft
    return recipe.current_version.document if recipe.current_version else {}


def draft_fingerprint(recipe) -> str:
    return _hash(draft_of(recipe))


def cases_fingerprint(recipe) -> str:
    rows = EvalCase.objects.filter(recipe=recipe).order_by("pk")[: evaluations.MAX_CASES]
    return _hash([[c.pk, c.trigger_data, c.checks] for c in rows])


def start(recipe, kind: str, user=None) -> EvalRun:
    """Record the evaluation and hand it to a worker once the transaction commits."""
    run = EvalRun.objects.create(
        workspace_id=recipe.workspace_id,
        recipe=recipe,
        kind=kind,
        requested_by=user if getattr(user, "is_authenticated", False) else None,
        draft_fingerprint=draft_fingerprint(recipe),
        live_version=recipe.current_version if kind == EvalRun.Kind.COMPARE else None,
        cases_fingerprint=cases_fingerprint(recipe),
        case_count=min(EvalCase.objects.filter(recipe=recipe).count(), evaluations.MAX_CASES),
    )

    def send() -> None:
        try:
            current_app.send_task(RUN_EVALUATION, (run.pk,), ignore_result=True)
        except Exception:
            log.exception("Could not hand evaluation %s to a worker", run.pk)
            EvalRun.objects.filter(pk=run.pk, status=EvalRun.Status.QUEUED).update(
                status=EvalRun.Status.FAILED,
                error=_("The task queue could not be reached. Try again in a moment."),
                finished_at=timezone.now(),
            )

    transaction.on_commit(send)
    return run


def perform(eval_run_id: int) -> str:
    """Run a queued evaluation (what the worker does). Claimed first, so a message delivered
    twice runs it once."""
    claimed = EvalRun.objects.filter(pk=eval_run_id, status=EvalRun.Status.QUEUED).update(
        status=EvalRun.Status.RUNNING
    )
    if not claimed:
        return "not queued"
    run = EvalRun.objects.select_related("recipe", "live_version").get(pk=eval_run_id)
    recipe = run.recipe
    try:
        results = {"draft": evaluations.evaluate(recipe, draft_of(recipe)).summary()}
        if run.kind == EvalRun.Kind.COMPARE and run.live_version is not None:
            live = evaluations.evaluate(recipe, run.live_version.document)
            results["live"] = live.summary()
    except Exception as error:
        log.exception("Evaluation %s failed", eval_run_id)
        EvalRun.objects.filter(pk=eval_run_id).update(
            status=EvalRun.Status.FAILED,
            error=_("The evaluation stopped: %(e)s") % {"e": type(error).__name__},
            finished_at=timezone.now(),
        )
        return "failed"
    EvalRun.objects.filter(pk=eval_run_id).update(
        status=EvalRun.Status.DONE, results=results, finished_at=timezone.now()
    )
    return "done"


def draft_is_worse(run: EvalRun) -> bool:
    """Whether the draft passed fewer of the cases than the live version did."""
    draft, live = run.results.get("draft"), run.results.get("live")
    return bool(draft and live) and draft["pass_rate"] < live["pass_rate"]


def publish_check(recipe, user=None) -> EvalRun | None:
    """The comparison Publish goes by: None when there is nothing to compare (no live
    version or no test cases); else the newest comparison of this draft on these cases with
    the live version — one is started when there is none yet."""
    if recipe.current_version is None or not EvalCase.objects.filter(recipe=recipe).exists():
        return None
    found = (
        EvalRun.objects.filter(
            recipe=recipe,
            kind=EvalRun.Kind.COMPARE,
            draft_fingerprint=draft_fingerprint(recipe),
            cases_fingerprint=cases_fingerprint(recipe),
            live_version=recipe.current_version,
        )
        .exclude(status=EvalRun.Status.FAILED)
        .first()
    )
    return found or start(recipe, EvalRun.Kind.COMPARE, user)
