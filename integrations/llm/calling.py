"""One model call as the steps make it: the model checked against the connection's allowed
list, the hub's budget gate asked first, the provider called once (its SDK's retries off),
and the attempt announced with its usage whether it succeeded or not."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.utils.translation import gettext as _

from integrations import registry
from integrations.base import Context, IntegrationError, WaitUntil
from integrations.llm import hooks
from integrations.llm.providers.base import Completion, Prompt, ProviderIntegration
from integrations.llm.usage import Usage

log = logging.getLogger(__name__)


def provider_of(ctx: Context) -> ProviderIntegration:
    connection = ctx.connection
    if connection is None:
        raise IntegrationError(_("Choose an AI provider connection for this step."), permanent=True)
    provider = registry.get(getattr(connection, "integration", ""))
    if not isinstance(provider, ProviderIntegration):
        raise IntegrationError(
            _("“%(label)s” is not an AI provider connection.") % {"label": connection.label},
            permanent=True,
        )
    return provider


def details(ctx: Context) -> dict[str, Any]:
    return dict(getattr(ctx.connection, "details", None) or {})


def allowed_models(ctx: Context) -> list[dict[str, Any]]:
    """The models members may pick on this connection: those the admins chose, else every
    model the key can use (as "Test connection" last listed them)."""
    info = details(ctx)
    available = [m for m in info.get("available") or [] if isinstance(m, dict) and m.get("id")]
    allowed = info.get("allowed") or []
    if allowed:
        named = {m["id"]: m for m in available}
        return [named.get(m, {"id": m, "name": m, "context": None}) for m in allowed]
    return available


def check_model(ctx: Context, model: str) -> None:
    if not model:
        raise IntegrationError(_("Choose a model for this step."), permanent=True)
    allowed = details(ctx).get("allowed") or []
    if allowed and model not in allowed:
        raise IntegrationError(
            _(
                "The model “%(model)s” is not available on “%(label)s”. Choose one of: "
                "%(models)s, or ask an admin to allow it."
            )
            % {"model": model, "label": ctx.connection.label, "models": ", ".join(allowed)},
            permanent=True,
        )


def call_info(ctx: Context, provider: str, prompt: Prompt, operation: str, purpose: str, **params):
    return hooks.CallInfo(
        workspace_id=ctx.workspace_id,
        provider=provider,
        model=prompt.model,
        operation=operation,
        purpose=purpose,
        run_id=ctx.run_id,
        step_key=ctx.step_key,
        recipe_id=ctx.recipe_id,
        version_id=ctx.version_id,
        member_id=ctx.member_id,
        connection_id=getattr(ctx.connection, "pk", None),
        parameters={
            "temperature": prompt.temperature,
            "max_output_tokens": prompt.max_output_tokens,
            "schema": prompt.schema,
            **params,
        },
        evaluation=bool(getattr(ctx, "evaluation", False)),
    )


def call(
    ctx: Context, prompt: Prompt, operation: str, purpose: str = "answer", **params: Any
) -> Completion:
    provider = provider_of(ctx)
    check_model(ctx, prompt.model)
    info = call_info(ctx, provider.slug, prompt, operation, purpose, **params)
    gate = hooks.gate_for(info)
    if gate is not None:
        if gate.fail or gate.resume_at is None:
            raise IntegrationError(gate.message, permanent=True)
        raise WaitUntil(gate.resume_at, output={"waiting": gate.message})
    client = ctx.client()
    started = time.monotonic()
    try:
        answer = provider.complete(client, prompt)
    except IntegrationError as error:
        hooks.finished(info, _outcome("error", Usage(), started, error=error.message))
        raise
    except Exception as error:
        # An SDK failure the provider did not translate (a bug or an unexpected answer):
        # still one attempt that reached the provider, so it is recorded.
        hooks.finished(info, _outcome("error", Usage(), started, error=type(error).__name__))
        raise
    hooks.finished(
        info,
        _outcome(
            "ok", answer.usage, started, model=answer.model, finish_reason=answer.finish_reason
        ),
    )
    return answer


def _outcome(status: str, usage: Usage, started: float, **fields: Any) -> hooks.CallOutcome:
    return hooks.CallOutcome(
        status=status,
        usage=usage,
        latency_ms=int((time.monotonic() - started) * 1000),
        model_answered=fields.get("model", ""),
        finish_reason=fields.get("finish_reason", ""),
        error=str(fields.get("error", ""))[:500],
    )
