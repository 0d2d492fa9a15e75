"""Run history: the list with a status filter, a run's page with each step's input, output,
error, attempts and timings, and Cancel/Replay. Scoped to the current workspace."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hub.engine.models import RetentionPolicy, Run
from hub.engine.runs import RunError, cancel, replay
from hub.engine.sweeper import retention_days
from hub.llm.report import attach_to_steps as attach_llm_costs
from hub.recipes import access
from hub.web.decorators import member_required


def _pretty(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def _run(request, pk: int) -> Run:
    return get_object_or_404(
        Run.objects.select_related("recipe", "version"), pk=pk, workspace=request.workspace
    )


def _seen_run(request, pk: int) -> Run:
    run = _run(request, pk)
    if not access.may_see_run(request.membership, run):
        raise PermissionDenied(
            _("This run used a connection that is not shared with you, so you cannot change it.")
        )
    return run


@member_required
def run_list(request):
    runs = access.visible_runs(
        request.membership, Run.objects.filter(workspace=request.workspace)
    ).select_related("recipe")
    status = request.GET.get("status", "")
    if status in Run.Status.values:
        runs = runs.filter(status=status)
    page = Paginator(runs.order_by("-created_at", "-id"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "engine/runs.html",
        {
            "runs": page.object_list,
            "page": page,
            "status": status,
            "statuses": Run.Status.choices,
            "retention_days": retention_days(request.workspace),
            "any_runs": access.visible_runs(
                request.membership, Run.objects.filter(workspace=request.workspace)
            ).exists(),
        },
    )


@member_required
def run_detail(request, pk: int):
    run = _run(request, pk)
    may_see = access.may_see_run(request.membership, run)
    steps = list(run.steps.order_by("id")) if may_see else []
    for step in steps:
        step.input_json = _pretty(step.input)
        step.output_json = _pretty(step.output)
    attach_llm_costs(run, steps)
    return render(
        request,
        "engine/run.html",
        {
            "run": run,
            "may_see": may_see,
            "steps": steps,
            "trigger_json": _pretty(run.trigger_data) if may_see else "",
            "can_cancel": may_see and run.status in Run.ACTIVE and not run.cancel_requested,
            "can_replay": may_see and run.status in (Run.Status.FAILED, Run.Status.CANCELLED),
        },
    )


@member_required
@require_POST
def run_cancel(request, pk: int):
    run = _seen_run(request, pk)
    if cancel(run):
        messages.success(request, _("The run is cancelled."))
    else:
        messages.info(request, _("The run had already finished."))
    return redirect("run_detail", run.pk)


@member_required
@require_POST
def run_replay(request, pk: int):
    run = _seen_run(request, pk)
    try:
        new = replay(run, user=request.user)
    except RunError as error:
        messages.error(request, str(error))
        return redirect("run_detail", run.pk)
    if run.status == Run.Status.CANCELLED:
        messages.success(request, _("Running again from where it stopped."))
    else:
        messages.success(request, _("Replaying from the failed step."))
    return redirect("run_detail", new.pk)


@member_required
@require_POST
def retention(request):
    if not request.membership.is_admin:
        raise PermissionDenied(_("Only workspace admins can change how long runs are kept."))
    try:
        days = int(request.POST.get("days", ""))
    except ValueError:
        days = 0
    if not 1 <= days <= 3650:
        messages.error(request, _("Keep runs for between 1 and 3650 days."))
        return redirect("runs")
    RetentionPolicy.objects.update_or_create(workspace=request.workspace, defaults={"days": days})
    messages.success(request, _("Finished runs are kept for %(d)s days.") % {"d": days})
    return redirect("runs")
