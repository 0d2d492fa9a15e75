"""The price in force for a model at a moment, and a call's cost from its usage."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from fnmatch import fnmatchcase

from django.db import transaction

from hub.llm import spend
from hub.llm.models import LLMCall, ModelPrice

MILLION = Decimal(1_000_000)


def _specificity(pattern: str) -> tuple[int, int]:
    # An exact name beats any pattern; among patterns, the one with more fixed characters.
    fixed = len(pattern.replace("*", "").replace("?", ""))
    return (0 if any(c in pattern for c in "*?[") else 1, fixed)


def price_for(provider: str, models: list[str], at: datetime) -> ModelPrice | None:
    """The row for the first of ``models`` (the answered snapshot, then the requested name)
    that has one: the most specific matching pattern, then the latest start on or before
    ``at``'s date."""
    day = at.date()
    rows = [
        p
        for p in ModelPrice.objects.filter(
            starts_on__lte=day, provider__in=[provider, ""]
        ).order_by("-starts_on")
    ]
    for model in [m for m in models if m]:
        matching = [p for p in rows if fnmatchcase(model, p.model_pattern)]
        if matching:
            best = max(
                matching,
                key=lambda p: (_specificity(p.model_pattern), p.provider == provider, p.starts_on),
            )
            return best
    return None


def cost_of(usage: dict[str, int], rates: dict[str, str]) -> Decimal:
    total = (
        usage["input_uncached"] * Decimal(rates["input"])
        + usage["cache_read"] * Decimal(rates["cache_read"])
        + usage["cache_write"] * Decimal(rates["cache_write"])
        + usage["output"] * Decimal(rates["output"])
    )
    return (total / MILLION).quantize(Decimal("0.00000001"))


def usage_of(call: LLMCall) -> dict[str, int]:
    return {
        "input_uncached": call.input_uncached,
        "cache_read": call.cache_read,
        "cache_write": call.cache_write,
        "output": call.output,
    }


def price_call(call: LLMCall) -> None:
    """Set the call's cost, price and rates from the table as it stands now (for the call's
    own time). Used when recording, and by the explicit recompute."""
    price = price_for(call.provider, [call.model_answered, call.model_requested], call.created_at)
    if price is None:
        call.price, call.rates, call.cost = None, None, None
        return
    rates = price.rates(call.input_total)
    call.price, call.rates, call.cost = price, rates, cost_of(usage_of(call), rates)


def recompute(calls) -> int:
    """Price the given calls again with today's table (an admin's explicit action)."""
    changed = 0
    with transaction.atomic():
        for call in calls.select_related(None).iterator():
            before = call.cost
            price_call(call)
            call.save(update_fields=["cost", "price", "rates"])
            changed += before != call.cost
        # The month's totals the budgets read follow the new costs.
        spend.rebuild_for(calls)
    return changed
