"""Publish's look at the test cases: a draft that passes fewer of them than the live version
is published only after the member confirms, seeing both pass rates.

The comparison runs in a worker (``hub.recipes.evaluation_runs``). While it runs, the
editor's publish panel says so and asks again every two seconds; once it is in, a draft at
least as good publishes at once (the panel posts Publish again, finding the comparison done)
and a worse one shows the confirm step.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404, render

from hub.llm.models import EvalRun
from hub.recipes import evaluation_runs
from hub.web.decorators import member_required
from hub.web.editor_context import PAGE, editable


def gate(request, recipe, context: dict):
    """The publish panel to answer with instead of publishing, or None to publish now."""
    if request.POST.get("confirmed") == "1":
        return None
    check = evaluation_runs.publish_check(recipe, request.user)
    if check is None:
        return None
    if check.status == EvalRun.Status.DONE and not evaluation_runs.draft_is_worse(check):
        return None
    return render(request, f"{PAGE}#publish_panel", {**context, **_state(check)})


def _state(check: EvalRun) -> dict:
    if not check.finished:
        return {"checking": check}
    if check.status == EvalRun.Status.FAILED:
        return {"check_failed": check}
    return {"confirm": check, "draft": check.results["draft"], "live": check.results["live"]}


@member_required
def poll(request, pk: int, run_id: int):
    """The publish panel while the comparison Publish started runs, and once it is in."""
    recipe = editable(request, pk)
    check = get_object_or_404(EvalRun, pk=run_id, recipe=recipe, kind=EvalRun.Kind.COMPARE)
    context = {"recipe": recipe, "problems": [], "focus_problems": False}
    if check.status == EvalRun.Status.DONE and not evaluation_runs.draft_is_worse(check):
        context["publish_now"] = True
    else:
        context.update(_state(check))
    return render(request, f"{PAGE}#publish_panel", context)
