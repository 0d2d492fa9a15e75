"""A recipe's test cases and their evaluations: the list, add/edit/delete, "Save as test case"
from a run, and "Run evaluations" / "Compare" with their results.

Permissions are the editor's (``editable``): the recipe's owner and the workspace's admins;
another workspace's recipe, case or evaluation is a 404. The evaluations run in a worker
(``hub.recipes.evaluation_runs``); the results panel follows them until they are in.
"""

from __future__ import annotations

import json
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hub.engine.models import Run, StepRun
from hub.llm.models import EvalCase, EvalRun
from hub.recipes import access, evaluation_runs, evaluations
from hub.web import eval_case_form as forms
from hub.web.decorators import member_required
from hub.web.editor_context import editable

LIST = "recipes/evaluations/cases.html"
FORM = "recipes/evaluations/case_form.html"


def _case(request, pk: int, case_id: int):
    recipe = editable(request, pk)
    return recipe, get_object_or_404(EvalCase, pk=case_id, recipe=recipe)


def _latest(recipe) -> EvalRun | None:
    return EvalRun.objects.filter(recipe=recipe).first()


def _priced(summary: dict) -> dict:
    """``show_cost``: whether the known cost is worth showing — a cost of 0 that only stands
    for calls without a price is "price unknown", never $0."""
    for part in [summary, *summary.get("cases", [])]:
        part["show_cost"] = not part["unknown_price_calls"] or Decimal(part["cost"]) != 0
    return summary


def results_context(recipe, run: EvalRun | None) -> dict:
    """The results panel's context: each side's summary and, case by case, each side's
    result next to the other's."""
    context = {"recipe": recipe, "evaluation": run, "sides": [], "rows": []}
    if run is None or run.status != EvalRun.Status.DONE:
        return context
    names = {"draft": _("Draft"), "live": _("Live version")}
    sides = [(key, _priced(run.results[key])) for key in ("draft", "live") if key in run.results]
    context["sides"] = [{"key": key, "name": names[key], **summary} for key, summary in sides]
    by_case: dict[int, dict] = {}
    for key, summary in sides:
        for result in summary["cases"]:
            row = by_case.setdefault(result["case"], {"name": result["name"], "results": {}})
            row["results"][key] = result
    context["rows"] = [
        {"name": row["name"], "results": [row["results"].get(key) for key, _s in sides]}
        for row in by_case.values()
    ]
    return context


def _describe(rule: dict, outputs: dict) -> dict:
    where = outputs.get(f"{rule.get('step')}|{rule.get('field')}") or (
        f"{rule.get('step')}.{rule.get('field')}"
    )
    value = rule.get("value")
    if rule.get("check") == "judge":
        value = f"{rule.get('model')}: {value}"
    elif rule.get("check") == "one_of" and isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    elif value is not None and not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False)
    return {"where": where, "check": forms.CHECK_LABELS.get(rule.get("check"), ""), "value": value}


@member_required
def cases(request, pk: int):
    recipe = editable(request, pk)
    document = evaluation_runs.draft_of(recipe)
    outputs = dict(forms.output_choices(document))
    listed = [
        {"case": c, "checks": [_describe(r, outputs) for r in c.checks or []]}
        for c in EvalCase.objects.filter(recipe=recipe).select_related("from_run")
    ]
    return render(
        request,
        LIST,
        {
            "recipe": recipe,
            "cases": listed,
            "has_ai_steps": bool(forms.ai_steps(document)),
            "at_limit": len(listed) >= evaluations.MAX_CASES,
            "max_cases": evaluations.MAX_CASES,
            **results_context(recipe, _latest(recipe)),
        },
    )


def _form_page(request, recipe, form, case=None, status=200):
    document = evaluation_runs.draft_of(recipe)
    return render(
        request,
        FORM,
        {
            "recipe": recipe,
            "case": case,
            "form": form,
            "outputs": forms.output_choices(document),
            "judges": forms.judge_choices(request),
            "check_labels": list(forms.CHECK_LABELS.items()),
            "with_value": forms.WITH_VALUE,
        },
        status=status,
    )


@member_required
def case_new(request, pk: int):
    recipe = editable(request, pk)
    document = evaluation_runs.draft_of(recipe)
    if request.method != "POST":
        return _form_page(request, recipe, forms.blank(document, request))
    if EvalCase.objects.filter(recipe=recipe).count() >= evaluations.MAX_CASES:
        messages.error(
            request,
            _("A recipe keeps at most %(n)s test cases: delete one first.")
            % {"n": evaluations.MAX_CASES},
        )
        return redirect("eval_cases", recipe.pk)
    form, values = forms.read(request.POST, document, request)
    if values is None:
        return _form_page(request, recipe, form, status=200 if form.valid else 400)
    case = EvalCase.objects.create(recipe=recipe, **values)
    messages.success(request, _("Saved the test case “%(name)s”.") % {"name": case.name})
    return redirect("eval_cases", recipe.pk)


@member_required
def case_edit(request, pk: int, case_id: int):
    recipe, case = _case(request, pk, case_id)
    document = evaluation_runs.draft_of(recipe)
    if request.method != "POST":
        form = forms.from_case(document, request, case.name, case.trigger_data, case.checks)
        return _form_page(request, recipe, form, case)
    form, values = forms.read(request.POST, document, request)
    if values is None:
        return _form_page(request, recipe, form, case, status=200 if form.valid else 400)
    for key, value in values.items():
        setattr(case, key, value)
    case.save()
    messages.success(request, _("Saved the test case “%(name)s”.") % {"name": case.name})
    return redirect("eval_cases", recipe.pk)


@member_required
@require_POST
def case_delete(request, pk: int, case_id: int):
    recipe, case = _case(request, pk, case_id)
    case.delete()
    messages.success(request, _("Deleted the test case “%(name)s”.") % {"name": case.name})
    return redirect("eval_cases", recipe.pk)


@member_required
@require_POST
def start(request, pk: int):
    recipe = editable(request, pk)
    kind = request.POST.get("kind")
    if kind not in EvalRun.Kind.values:
        kind = EvalRun.Kind.EVALUATE
    if not EvalCase.objects.filter(recipe=recipe).exists():
        messages.error(request, _("Add a test case first."))
        return redirect("eval_cases", recipe.pk)
    if kind == EvalRun.Kind.COMPARE and recipe.current_version is None:
        messages.error(request, _("There is no live version to compare with: publish first."))
        return redirect("eval_cases", recipe.pk)
    run = evaluation_runs.start(recipe, kind, request.user)
    if request.htmx:
        return render(request, f"{LIST}#results", results_context(recipe, run))
    return redirect("eval_cases", recipe.pk)


@member_required
def result(request, pk: int, run_id: int):
    recipe = editable(request, pk)
    run = get_object_or_404(EvalRun, pk=run_id, recipe=recipe)
    return render(request, f"{LIST}#results", results_context(recipe, run))


def _ai_outputs(run: Run) -> list[tuple[str, str, object]]:
    """(step, output, value) of every AI step the run completed, as recorded."""
    document = run.version.document if run.version else {}
    ai = {s["key"] for s in forms.ai_steps(document)}
    found = []
    steps = StepRun.objects.filter(
        run=run, key__in=ai, item=None, status=StepRun.Status.SUCCEEDED
    ).order_by("id")
    for step in steps:
        if step.output_truncated or not isinstance(step.output, dict):
            continue  # a shortened output is not the answer: no "equals" from it
        for output, value in step.output.items():
            found.append((step.key, output, value))
    return found


@member_required
@require_POST
def save_from_run(request, pk: int):
    run = get_object_or_404(
        Run.objects.select_related("recipe", "version"), pk=pk, workspace=request.workspace
    )
    if not access.may_see_run(request.membership, run):
        raise PermissionDenied(_("This run's data is not shown to you, so it cannot be saved."))
    recipe = editable(request, run.recipe_id)
    outputs = _ai_outputs(run)
    if not outputs:
        messages.error(request, _("This run has no finished AI step to take the answers from."))
        return redirect("run_detail", run.pk)
    if EvalCase.objects.filter(recipe=recipe).count() >= evaluations.MAX_CASES:
        messages.error(
            request,
            _("A recipe keeps at most %(n)s test cases: delete one first.")
            % {"n": evaluations.MAX_CASES},
        )
        return redirect("run_detail", run.pk)
    case = EvalCase.objects.create(
        recipe=recipe,
        name=_("Run #%(n)s") % {"n": run.pk},
        trigger_data=json.loads(json.dumps(run.trigger_data or {}, default=str)),
        checks=[
            {"step": step, "field": output, "check": "equals", "value": value}
            for step, output, value in outputs
        ],
        from_run=run,
    )
    messages.success(
        request,
        _(
            "Saved as a test case. Each check expects exactly what the run gave: loosen the "
            "ones that may vary (“contains”, “is one of”, a judge)."
        ),
    )
    return redirect("eval_case_edit", recipe.pk, case.pk)
