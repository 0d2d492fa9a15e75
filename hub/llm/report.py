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
