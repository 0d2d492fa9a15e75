"""The AI usage page: spend per day (an SVG chart drawn here), by recipe, model and member,
each budget's state as a bar, a filterable list of calls linking to their runs, and the
budget form. Admins only; everything is the current workspace's."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hub.llm import budgets, report
from hub.llm.models import Budget, LLMCall
from hub.recipes.models import Recipe
from hub.web.decorators import admin_required

PERIODS = (7, 30, 90)
CHART_WIDTH, CHART_HEIGHT = 600, 120


def _chart(days: list[dict]) -> dict:
    """Bars for the spend per day, scaled to the most expensive day."""
    top = max((d["cost"] for d in days), default=Decimal(0)) or Decimal(1)
    width = CHART_WIDTH / max(len(days), 1)
    bars = []
    for i, day in enumerate(days):
        height = float(day["cost"] / top) * (CHART_HEIGHT - 10)
        bars.append(
            {
                "x": round(i * width + 1, 1),
                "y": round(CHART_HEIGHT - height, 1),
                "width": round(max(width - 2, 1), 1),
                "height": round(height, 1),
                "day": day["day"],
                "cost": day["cost"],
                "calls": day["calls"],
            }
        )
    return {"bars": bars, "width": CHART_WIDTH, "height": CHART_HEIGHT, "top": top}


def _filtered(request, calls):
    chosen = {}
    for key, field in (
        ("recipe", "recipe_id"),
        ("member", "member_id"),
        ("run", "run_id"),
    ):
        value = request.GET.get(key, "")
        if value.isdigit():
            calls = calls.filter(**{field: int(value)})
            chosen[key] = value
    model = request.GET.get("model", "").strip()
    if model:
        calls = calls.filter(model_requested=model)
        chosen["model"] = model
    status = request.GET.get("status", "")
    if status in LLMCall.Status.values:
        calls = calls.filter(status=status)
        chosen["status"] = status
    if request.GET.get("price") == "unknown":
        calls = calls.filter(cost=None, status=LLMCall.Status.OK)
        chosen["price"] = "unknown"
    return calls, chosen


@admin_required
def ai_usage(request):
    days = int(request.GET.get("days", 30)) if request.GET.get("days", "").isdigit() else 30
    days = days if days in PERIODS else 30
    today = timezone.localdate()
    start = today - timedelta(days=days - 1)
    since = timezone.now() - timedelta(days=days)
    all_calls = LLMCall.objects.filter(workspace=request.workspace, created_at__gte=since)
    calls, chosen = _filtered(request, all_calls)
    page = Paginator(
        calls.select_related("recipe", "member").order_by("-created_at", "-id"), 50
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "llm/usage.html",
        {
            "days": days,
            "periods": PERIODS,
            "summary": report.summary(calls),
            "chart": _chart(report.per_day(calls, start, today)),
            "by_recipe": report.grouped(calls, "recipe_id", "recipe__name"),
            "by_model": report.grouped(calls, "provider", "model_requested"),
            "by_member": report.grouped(calls, "member_id", "member__email"),
            "budgets": report.budget_states(request.workspace),
            "recipes": Recipe.objects.filter(workspace=request.workspace).order_by("name"),
            "on_reach_choices": Budget.OnReach.choices,
            "page": page,
            "chosen": chosen,
            "statuses": LLMCall.Status.choices,
        },
    )


@admin_required
@require_POST
def ai_budget(request):
    try:
        limit = Decimal(request.POST.get("monthly_limit", "").strip())
    except InvalidOperation:
        limit = Decimal(-1)
    if limit < 0 or limit > Decimal("1000000"):
        messages.error(request, _("Enter the monthly budget in dollars, such as 50 or 12.50."))
        return redirect("ai_usage")
    recipe = None
    if request.POST.get("recipe", "").isdigit():
        recipe = get_object_or_404(
            Recipe, pk=int(request.POST["recipe"]), workspace=request.workspace
        )
    on_reach = request.POST.get("on_reach", Budget.OnReach.WAIT)
    if on_reach not in Budget.OnReach.values:
        on_reach = Budget.OnReach.WAIT
    budgets.save_budget(request.workspace, limit, recipe=recipe, on_reach=on_reach)
    messages.success(request, _("The budget is saved. Runs waiting on it go on if it allows."))
    return redirect("ai_usage")
