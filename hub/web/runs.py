"""Run history: the list with a status filter, a run's page with each step's input, output,
error, attempts and timings, and Cancel/Replay. Scoped to the current workspace."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hub.engine.models import RetentionPolicy, Run
from hub.engine.runs import RunError, cancel, replay
from hub.engine.sweeper import retention_days
from hub.llm.report import attach_to_steps as attach_llm_costs
from hub.recipes import access
from hub.recipes.models import Recipe
from hub.web.decorators import member_required
from hub.web.run_filters import LISTED, RunFilters, page_of


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
    workspace_runs = access.visible_runs(
        request.membership, Run.objects.filter(workspace=request.workspace)
    )
    recipes = list(
        Recipe.objects.filter(workspace=request.workspace)
        .order_by("name")
        .values_list("id", "name")
    )
    filters = RunFilters.from_query(request.GET, {pk for pk, _name in recipes})
    cursor = request.GET.get("after") or None
    runs, next_cursor = page_of(
        filters.apply(workspace_runs, timezone.get_current_timezone())
        .select_related("recipe")
        .only(*LISTED),
        cursor,
    )
    context = {
        "runs": runs,
        "filters": filters,
        "recipes": recipes,
        "statuses": Run.Status.choices,
        "next_query": filters.query(after=next_cursor) if next_cursor else "",
        "first_query": filters.query() if cursor else None,
        # Only the newest page follows new runs as they come; an older page stays still.
        "live_query": None if cursor else filters.query(),
    }
    if request.htmx and request.GET.get("part") == "table":
        return render(request, "engine/_runs_live.html", context)
    context.update(
        retention_days=retention_days(request.workspace),
        any_runs=bool(runs) or filters.active or workspace_runs.exists(),
    )
    return render(request, "engine/runs.html", context)


@member_required
def run_detail(request, pk: int):
    run = _run(request, pk)
    may_see = access.may_see_run(request.membership, run)
    steps = list(run.steps.order_by("id")) if may_see else []
    for step in steps:
        step.input_json = _pretty(step.input)
        step.output_json = _pretty(step.output)
    attach_llm_costs(run, steps)
    context = {
        "run": run,
        "may_see": may_see,
        "steps": steps,
        "trigger_json": _pretty(run.trigger_data) if may_see else "",
        "can_cancel": may_see and run.status in Run.ACTIVE and not run.cancel_requested,
        "can_replay": may_see and run.status in (Run.Status.FAILED, Run.Status.CANCELLED),
        # A finished AI step's answers can become a test case's expected values.
        "can_save_case": may_see
        and any(s.app == "llm" and s.status == "succeeded" for s in steps)
        and access.may_manage(request.user, run.recipe, request.membership),
        # While the run goes on, the page asks for its newest state every two seconds.
        "live": run.status in Run.ACTIVE,
    }
    if request.htmx and request.GET.get("part") == "live":
        return render(request, "engine/_run_live.html", context)
    return render(request, "engine/run.html", context)


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
