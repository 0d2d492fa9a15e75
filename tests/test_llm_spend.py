"""The month's running AI totals the budgets read: kept by every recorded call, equal to the
sum of the calls, rebuilt after a price recompute, and read in a fixed number of queries
however many calls the month holds."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hub.llm import budgets, months, prices, spend
from hub.llm.models import LLMCall, ModelPrice, MonthlySpend
from hub.recipes.models import Recipe
from integrations.llm import hooks
from integrations.llm.usage import Usage
from tests.llm_support import recorded_call

pytestmark = pytest.mark.django_db


record = recorded_call


def test_each_call_adds_to_the_workspace_and_its_recipe(workspace):
    recipe = Recipe.objects.create(workspace=workspace, name="Triage")
    _call, after = record(workspace, "0.25", recipe)
    assert after == {0: Decimal("0.25"), recipe.pk: Decimal("0.25")}
    _call, after = record(workspace, "0.50")
    assert after == {0: Decimal("0.75"), MonthlySpend.NO_RECIPE: Decimal("0.50")}
    month = months.current(workspace)[0]
    assert spend.totals(workspace.id, month, [recipe.pk]) == {
        0: Decimal("0.75"),
        recipe.pk: Decimal("0.25"),
    }


def test_an_unpriced_call_adds_nothing_and_is_still_recorded(workspace):
    call, after = record(workspace, None)
    assert after == {} and LLMCall.objects.filter(pk=call.pk).exists()
    assert not MonthlySpend.objects.exists()


def test_the_month_is_the_workspaces_calendar_month(workspace):
    workspace.timezone = "Asia/Seoul"
    workspace.save()
    # 20:00 UTC on 30 November is already 1 December in Seoul.
    record(workspace, "1.00", at=datetime(2026, 11, 30, 20, 0, tzinfo=ZoneInfo("UTC")))
    assert list(MonthlySpend.objects.values_list("month", flat=True).distinct()) == [
        datetime(2026, 12, 1).date()
    ]


def test_totals_equal_the_calls_and_rebuild_gives_the_same(workspace):
    recipe = Recipe.objects.create(workspace=workspace, name="Triage")
    for dollars in ("0.10", "0.20", "0.33333333"):
        record(workspace, dollars, recipe)
    record(workspace, "1.05")
    month = months.current(workspace)[0]
    kept = spend.totals(workspace.id, month, [recipe.pk])
    assert kept[0] == LLMCall.objects.aggregate(s=Sum("cost"))["s"]
    spend.rebuild(workspace, month)
    assert spend.totals(workspace.id, month, [recipe.pk]) == kept


def test_a_price_recompute_moves_the_totals_with_the_costs(workspace):
    call = LLMCall(
        workspace=workspace,
        provider="openai_compatible",
        model_requested="acme-local-7b",
        operation="ask",
        status=LLMCall.Status.OK,
        input_uncached=1_000_000,
        created_at=timezone.now(),
    )
    prices.price_call(call)
    assert call.cost is None  # price unknown
    spend.save_call(call)
    ModelPrice.objects.create(
        provider="openai_compatible",
        model_pattern="acme-local-*",
        starts_on=call.created_at.date().replace(day=1),
        input_per_million=Decimal("2"),
        output_per_million=Decimal("8"),
    )
    assert prices.recompute(LLMCall.objects.filter(pk=call.pk)) == 1
    month = months.current(workspace)[0]
    assert spend.totals(workspace.id, month)[0] == Decimal("2")


def test_the_gate_and_the_record_cost_the_same_whatever_the_month_holds(workspace):
    budgets.save_budget(workspace, Decimal(1_000_000))
    info = hooks.CallInfo(
        workspace_id=workspace.id, provider="openai", model="gpt-4o-mini", operation="ask"
    )
    outcome = hooks.CallOutcome(status="ok", usage=Usage(120, 0, 0, 30), latency_ms=5)

    def queries() -> int:
        with CaptureQueriesContext(connection) as seen:
            assert hooks.gate_for(info) is None
            hooks.finished(info, outcome)
        return len(seen.captured_queries)

    first = queries()
    for _ in range(200):
        record(workspace, "0.01")
    assert queries() == first
    assert first <= 9  # budgets and totals, price, the call and its totals (with savepoints)
