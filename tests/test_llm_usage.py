"""Usage converted per provider from recorded answers (parsed with the SDKs' own types), and
costs: cache reads and writes, the long-context tier, unknown prices, effective dates, and
past costs that a price change does not rewrite."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import anthropic.types
import openai.types.chat
import pytest
from django.utils import timezone
from google.genai import types as genai_types

from hub.llm import prices, receivers
from hub.llm.models import LLMCall, ModelPrice
from integrations.llm.hooks import CallInfo, CallOutcome
from integrations.llm.usage import Usage, from_anthropic, from_gemini, from_openai

FIXTURES = Path(__file__).parent / "fixtures" / "llm"


def payload(name):
    return json.loads((FIXTURES / f"{name}.json").read_text())


def test_openai_prompt_tokens_include_the_cached_ones():
    answer = openai.types.chat.ChatCompletion.model_validate(
        payload("chat.completions__cached_reasoning")
    )
    usage = from_openai(answer.usage)
    assert usage == Usage(input_uncached=86, cache_read=1920, output=300, reasoning=192)
    assert usage.input_total == answer.usage.prompt_tokens
    # Reasoning is part of the output billed, not added to it.
    assert usage.output == answer.usage.completion_tokens


def test_anthropic_cache_tokens_come_in_addition_to_input_tokens():
    answer = anthropic.types.Message.model_validate(
        payload("messages.create__cache_write_and_read")
    )
    usage = from_anthropic(answer.usage)
    assert usage == Usage(input_uncached=50, cache_read=4000, cache_write=1000, output=200)
    assert usage.input_total == 5050


def test_gemini_prompt_count_includes_cached_and_thoughts_are_output():
    answer = genai_types.GenerateContentResponse.model_validate(
        payload("models.generateContent__cached_thoughts")
    )
    usage = from_gemini(answer.usage_metadata)
    assert usage == Usage(input_uncached=952, cache_read=2048, output=350, reasoning=250)
    assert usage.total == answer.usage_metadata.total_token_count
    # The wire form (camelCase) converts the same.
    assert from_gemini(payload("models.generateContent__cached_thoughts")["usageMetadata"]) == usage


def record(workspace, provider, model, usage, answered="", at=None):
    info = CallInfo(workspace_id=workspace.id, provider=provider, model=model, operation="ask")
    outcome = CallOutcome(status="ok", usage=usage, latency_ms=120, model_answered=answered)
    call = receivers.record(info, outcome)
    if at is not None:
        LLMCall.objects.filter(pk=call.pk).update(created_at=at)
        call.refresh_from_db()
    return call


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("provider", "model", "answered", "usage", "cost"),
    [
        (
            "openai",
            "o4-mini",
            "o4-mini-2025-04-16",
            Usage(86, 1920, 0, 300, 192),
            # 86 * 1.10 + 1,920 * 0.275 + 300 * 4.40, per million
            Decimal("0.0019426"),
        ),
        (
            "anthropic",
            "claude-sonnet-4-5",
            "claude-sonnet-4-5-20250929",
            Usage(50, 4000, 1000, 200),
            # 50 * 3 + 4,000 * 0.30 + 1,000 * 3.75 (cache write) + 200 * 15
            Decimal("0.0081"),
        ),
        (
            "gemini",
            "gemini-2.5-flash",
            "gemini-2.5-flash",
            Usage(952, 2048, 0, 350, 250),
            # 952 * 0.30 + 2,048 * 0.03 + 350 * 2.50
            Decimal("0.00122204"),
        ),
    ],
)
def test_cost_counts_cache_reads_and_writes_at_their_prices(
    workspace, provider, model, answered, usage, cost
):
    call = record(workspace, provider, model, usage, answered)
    assert call.cost == cost
    assert call.price.model_pattern.startswith(model.split("-2025")[0][:8])


@pytest.mark.django_db
def test_long_context_tier_prices_every_token_higher(workspace):
    call = record(workspace, "anthropic", "claude-sonnet-4-5", Usage(250_000, 0, 0, 1000))
    # 250,000 * 6.00 + 1,000 * 22.50 per million
    assert call.cost == Decimal("1.5225")
    assert call.rates["tier"] == "long"


@pytest.mark.django_db
def test_a_model_without_a_price_is_price_unknown_not_free(workspace):
    call = record(workspace, "openai_compatible", "llama3.1:8b", Usage(500, 0, 0, 80))
    assert call.cost is None and not call.price_known
    from hub.llm.report import summary

    totals = summary(LLMCall.objects.filter(workspace=workspace))
    assert totals["unknown_price_calls"] == 1 and totals["cost"] == Decimal(0)


@pytest.mark.django_db
def test_changing_a_price_keeps_past_costs_until_an_explicit_recompute(workspace):
    earlier = record(workspace, "openai", "gpt-4o-mini", Usage(1_000_000, 0, 0, 0))
    assert earlier.cost == Decimal("0.15")
    ModelPrice.objects.filter(model_pattern="gpt-4o-mini*").update(
        input_per_million=Decimal("0.30")
    )
    earlier.refresh_from_db()
    assert earlier.cost == Decimal("0.15")  # the price it was computed with
    later = record(workspace, "openai", "gpt-4o-mini", Usage(1_000_000, 0, 0, 0))
    assert later.cost == Decimal("0.30")
    assert prices.recompute(LLMCall.objects.filter(pk=earlier.pk)) == 1
    earlier.refresh_from_db()
    assert earlier.cost == Decimal("0.30")


@pytest.mark.django_db
def test_the_price_in_force_at_the_calls_time_applies(workspace):
    today = timezone.now().date()
    ModelPrice.objects.create(
        provider="openai",
        model_pattern="gpt-4o-mini*",
        starts_on=today + timedelta(days=10),
        input_per_million=Decimal("0.05"),
        output_per_million=Decimal("0.20"),
    )
    now = record(workspace, "openai", "gpt-4o-mini", Usage(1_000_000, 0, 0, 0))
    assert now.cost == Decimal("0.15")
    future = timezone.now() + timedelta(days=11)
    price = prices.price_for("openai", ["gpt-4o-mini"], future)
    assert price.starts_on > today and price.input_per_million == Decimal("0.05")
    assert prices.price_for("openai", ["gpt-4o-mini"], timezone.now()).starts_on == date(2025, 1, 1)


@pytest.mark.django_db
def test_a_snapshot_name_finds_the_models_price_and_the_most_specific_wins(workspace):
    call = record(
        workspace, "openai", "gpt-4o-mini", Usage(0, 0, 0, 1_000_000), "gpt-4o-mini-2024-07-18"
    )
    assert call.price.model_pattern == "gpt-4o-mini*"  # not gpt-4o*
    assert call.cost == Decimal("0.60")
