"""Spending summaries for the AI usage page and ``manage.py llm usage``. Calls with no price
are counted apart ("price unknown"), never added as $0."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate

from hub.llm import budgets
from hub.llm.models import Budget, LLMCall

TOKEN_KINDS = ("input_uncached", "cache_read", "cache_write", "output", "reasoning")


def summary(calls) -> dict:
    totals = calls.aggregate(
        calls=Count("id"),
        spend=Sum("cost"),
        unknown_price_calls=Count("id", filter=Q(cost=None, status=LLMCall.Status.OK)),
        failed=Count("id", filter=Q(status=LLMCall.Status.ERROR)),
        **{kind: Sum(kind) for kind in TOKEN_KINDS},
    )
    totals["cost"] = totals.pop("spend") or Decimal(0)
    totals["tokens"] = {kind: totals.pop(kind) or 0 for kind in TOKEN_KINDS}
    return totals


def grouped(calls, *fields: str) -> list[dict]:
    """Calls, tokens and cost per value of ``fields``, most expensive first."""
    rows = (
        calls.values(*fields)
        .annotate(
            calls=Count("id"),
            spend=Sum("cost"),
            unknown=Count("id", filter=Q(cost=None, status=LLMCall.Status.OK)),
            input=Sum("input_uncached") + Sum("cache_read") + Sum("cache_write"),
            output_tokens=Sum("output"),
        )
        .order_by("-spend", "-calls")
    )
    return [{**r, "cost": r.pop("spend") or Decimal(0)} for r in rows]


def per_day(calls, start: date, end: date) -> list[dict]:
    """One row per day from ``start`` to ``end`` (inclusive), days without calls at zero."""
    found = {
        r["day"]: r
        for r in calls.annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(spend=Sum("cost"), calls=Count("id"))
    }
    days = []
    day = start
    while day <= end:
        row = found.get(day) or {}
        days.append(
            {"day": day, "cost": row.get("spend") or Decimal(0), "calls": row.get("calls", 0)}
        )
        day += timedelta(days=1)
    return days


def budget_states(workspace) -> list[dict]:
    rows = Budget.objects.filter(workspace=workspace).select_related("recipe", "workspace")
    return [budgets.state(b) for b in rows.order_by("recipe__name")]


def attach_to_steps(run, steps) -> None:
    """Give each LLM step attempt of the run page its tokens and cost (``step.llm``): the
    calls recorded for that step while the attempt ran."""
    llm_steps = [s for s in steps if s.app == "llm"]
    if not llm_steps:
        return
    calls = list(LLMCall.objects.filter(run=run).order_by("created_at"))
    for step in llm_steps:
        mine = [
            c
            for c in calls
            if c.step_key == step.key
            and c.created_at >= step.started_at
            and (step.finished_at is None or c.created_at <= step.finished_at)
        ]
        if not mine:
            continue
        known = [c.cost for c in mine if c.cost is not None]
        step.llm = {
            "calls": len(mine),
            "input": sum(c.input_total for c in mine),
            "cache_read": sum(c.cache_read for c in mine),
            "output": sum(c.output for c in mine),
            "reasoning": sum(c.reasoning for c in mine),
            "cost": sum(known, Decimal(0)),
            "unknown": sum(1 for c in mine if c.cost is None and c.status == LLMCall.Status.OK),
            "models": sorted({c.model_answered or c.model_requested for c in mine}),
        }
