"""The month's committed AI spending, as running totals (``MonthlySpend``).

Each priced call adds its cost to two rows — its workspace's total and its recipe's — in one
upsert, inside the transaction that inserts the call, and gets both new totals back. The
row locks of that upsert order concurrent calls, so each sees the totals up to and including
its own cost: the threshold alerts fire on the call that crossed, and the gate reads
committed totals in one indexed lookup however many calls the month holds.

The totals are derived data: ``rebuild`` computes them again from the calls (after an
explicit price recompute, or to repair them).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, Sum
from django.db.models.functions import Coalesce

from hub.llm import months
from hub.llm.models import LLMCall, MonthlySpend

CENTS = Decimal("0.00000001")

# Both databases the hub runs on (SQLite ≥ 3.35, PostgreSQL) speak this upsert.
UPSERT = """
INSERT INTO llm_monthlyspend (workspace_id, month, recipe_key, cost, calls)
VALUES (%s, %s, %s, %s, 1), (%s, %s, %s, %s, 1)
ON CONFLICT (workspace_id, month, recipe_key)
DO UPDATE SET cost = llm_monthlyspend.cost + excluded.cost, calls = llm_monthlyspend.calls + 1
RETURNING recipe_key, cost
"""


def recipe_key(recipe_id: int | None) -> int:
    return recipe_id if recipe_id else MonthlySpend.NO_RECIPE


def money(value) -> Decimal:
    # SQLite does the addition in floating point: back to the money's own precision.
    return Decimal(str(value)).quantize(CENTS)


def add(call: LLMCall, month: date) -> dict[int, Decimal]:
    """Add a priced call to its month's totals; returns ``{recipe_key: total}`` after it, for
    the workspace (``MonthlySpend.WORKSPACE_TOTAL``) and the call's recipe. Run it in the
    transaction that saves the call."""
    key = recipe_key(call.recipe_id)
    row = (call.workspace_id, month, key, call.cost)
    total = (call.workspace_id, month, MonthlySpend.WORKSPACE_TOTAL, call.cost)
    with connection.cursor() as cursor:
        # The workspace's row first, in every call: concurrent upserts lock in one order.
        cursor.execute(UPSERT, [*total, *row])
        return {int(k): money(v) for k, v in cursor.fetchall()}


def save_call(call: LLMCall, zone=None) -> dict[int, Decimal]:
    """Insert a call and, when it is priced, add it to its month's totals, in one
    transaction; returns the totals after it (empty for an unpriced call). ``zone``: the
    workspace's time zone when the caller already has it."""
    if zone is None:
        zone = months.zone_of(call.workspace)
    with transaction.atomic():
        call.save()
        if not call.cost:
            return {}
        return add(call, months.month_of(call.created_at, zone))


def totals(workspace_id: int, month: date, recipe_ids: Iterable[int] = ()) -> dict[int, Decimal]:
    """The committed totals of a month: the workspace's (key 0) and the given recipes'."""
    keys = [MonthlySpend.WORKSPACE_TOTAL, *(recipe_key(r) for r in recipe_ids)]
    rows = MonthlySpend.objects.filter(
        workspace_id=workspace_id, month=month, recipe_key__in=keys
    ).values_list("recipe_key", "cost")
    return {k: money(v) for k, v in rows}


def rebuild(workspace, month: date) -> None:
    """Compute a workspace's totals for a month again from its priced calls."""
    start, end = months.bounds(month, months.zone_of(workspace))
    calls = LLMCall.objects.filter(
        workspace=workspace, created_at__gte=start, created_at__lt=end, cost__isnull=False
    )
    per_recipe = calls.values("recipe_id").annotate(cost=Sum("cost"), calls=Count("id"))
    rows = [
        MonthlySpend(
            workspace=workspace,
            month=month,
            recipe_key=recipe_key(r["recipe_id"]),
            cost=money(r["cost"]),
            calls=r["calls"],
        )
        for r in per_recipe
    ]
    whole = calls.aggregate(cost=Coalesce(Sum("cost"), Decimal(0)), calls=Count("id"))
    rows.append(
        MonthlySpend(
            workspace=workspace,
            month=month,
            recipe_key=MonthlySpend.WORKSPACE_TOTAL,
            cost=money(whole["cost"]),
            calls=whole["calls"],
        )
    )
    with transaction.atomic():
        MonthlySpend.objects.filter(workspace=workspace, month=month).delete()
        MonthlySpend.objects.bulk_create(rows)


def rebuild_for(calls) -> int:
    """Rebuild every (workspace, month) the given calls fall in; returns how many."""
    from hub.accounts.models import Workspace

    done = 0
    ids = calls.order_by().values_list("workspace_id", flat=True).distinct()
    for workspace in Workspace.objects.filter(pk__in=list(ids)):
        zone = months.zone_of(workspace)
        moments = calls.filter(workspace=workspace).order_by().values_list("created_at", flat=True)
        for month in sorted({months.month_of(moment, zone) for moment in moments.iterator()}):
            rebuild(workspace, month)
            done += 1
    return done
