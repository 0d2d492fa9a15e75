"""The hub's side of the AI steps' seam: record each call, price it, check the budgets, and
hold calls back when a budget is reached."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import replace

from django.utils import timezone

from hub.engine.models import Run
from hub.engine.run_context import current_step
from hub.llm import budgets, months, prices, spend
from hub.llm.models import LLMCall
from integrations.llm import hooks

log = logging.getLogger(__name__)

# The settings of a step that shape its prompt (their templates, not their filled values).
PROMPT_SETTINGS = (
    "instructions",
    "fields",
    "labels",
    "max_words",
    "temperature",
    "max_output_tokens",
)


def connect() -> None:
    hooks.call_requested.connect(on_requested, dispatch_uid="hub.llm.gate")
    hooks.call_finished.connect(on_finished, dispatch_uid="hub.llm.record")


def on_requested(sender, info: hooks.CallInfo, **kwargs):
    return budgets.gate(_with_run_facts(info)[0])


def on_finished(sender, info: hooks.CallInfo, outcome: hooks.CallOutcome, **kwargs):
    try:
        record(info, outcome)
    except Exception:
        # The step's answer matters more than its record; the failure is logged, without
        # the prompt or answer (which never come this way).
        log.exception("Could not record an LLM call of run %s", info.run_id)


def _with_run_facts(info: hooks.CallInfo) -> tuple[hooks.CallInfo, dict | None, str | None]:
    """The call's recipe, version and member (the recipe's owner) where the context did not
    carry them; the version's step, for the prompt version; and the workspace's time zone
    when known. Within a step attempt all of it is at hand; otherwise one query."""
    if info.run_id is None:
        return info, None, None
    running = current_step(info.run_id, info.step_key)
    if running is not None:
        facts = running.facts
        known = (facts.recipe_id, facts.version_id, facts.member_id)
        step, zone = running.step, facts.workspace_timezone
    else:
        row = (
            Run.objects.filter(id=info.run_id)
            .values("recipe_id", "version_id", "recipe__owner_id", "version__document")
            .first()
        )
        if row is None:
            return info, None, None
        known = (row["recipe_id"], row["version_id"], row["recipe__owner_id"])
        steps = (row["version__document"] or {}).get("steps") or []
        step = next(
            (s for s in steps if isinstance(s, dict) and s.get("key") == info.step_key), None
        )
        zone = None
    recipe_id, version_id, member_id = known
    filled = replace(
        info,
        recipe_id=info.recipe_id or recipe_id,
        version_id=info.version_id or version_id,
        member_id=info.member_id or member_id,
    )
    return filled, step, zone


def prompt_version(info: hooks.CallInfo, step: dict | None) -> str:
    config = (step or {}).get("config") or {}
    template = {k: config.get(k) for k in PROMPT_SETTINGS if k in config}
    material = {
        "operation": info.operation,
        "model": info.model,
        "template": template if step else None,
        "parameters": info.parameters if not step else None,
    }
    text = json.dumps(material, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def record(info: hooks.CallInfo, outcome: hooks.CallOutcome) -> LLMCall:
    info, step, zone_name = _with_run_facts(info)
    usage = outcome.usage
    call = LLMCall(
        workspace_id=info.workspace_id,
        recipe_id=info.recipe_id,
        version_id=info.version_id,
        run_id=info.run_id,
        step_key=info.step_key or "",
        member_id=info.member_id,
        connection_id=info.connection_id,
        provider=info.provider,
        model_requested=info.model,
        model_answered=outcome.model_answered,
        operation=info.operation,
        purpose=info.purpose,
        prompt_version=prompt_version(info, step),
        input_uncached=usage.input_uncached,
        cache_read=usage.cache_read,
        cache_write=usage.cache_write,
        output=usage.output,
        reasoning=usage.reasoning,
        latency_ms=outcome.latency_ms,
        first_token_ms=outcome.first_token_ms,
        finish_reason=outcome.finish_reason[:40],
        status=LLMCall.Status.OK if outcome.status == "ok" else LLMCall.Status.ERROR,
        error=outcome.error[:500],
        evaluation=info.evaluation,
        created_at=timezone.now(),
    )
    prices.price_call(call)
    zone = months.zone_named(zone_name) if zone_name else None
    totals = spend.save_call(call, zone)
    if totals:
        budgets.check_thresholds(call, totals)
    return call
