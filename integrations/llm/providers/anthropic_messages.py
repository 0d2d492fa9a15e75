"""Anthropic through the ``anthropic`` SDK's Messages API. Structured output is a forced
tool: the answer schema is the tool's ``input_schema`` and ``tool_choice`` names it, so the
answer arrives as the tool call's ``input``. The instructions are marked for prompt caching."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

from integrations.base import Connection, IntegrationError
from integrations.llm.providers.base import (
    Completion,
    Prompt,
    ProviderIntegration,
    base_url,
    by_status,
    cached_client,
    call_timeout,
    refused,
)
from integrations.llm.usage import from_anthropic

if TYPE_CHECKING:
    import anthropic

# Messages requires an output limit; this one is generous for the steps' answers.
DEFAULT_MAX_TOKENS = 4096


class AnthropicIntegration(ProviderIntegration):
    slug = "anthropic"
    name = "Anthropic"
    url_setting = "ANTHROPIC_BASE_URL"
    default_url = "https://api.anthropic.com"

    @cached_client
    def client(self, connection: Connection) -> anthropic.Anthropic:
        # Imported here: the SDK is ~40 MB, paid only by a process that calls it.
        import anthropic

        return anthropic.Anthropic(
            api_key=connection.fresh_token(),
            base_url=base_url(connection, self.url_setting, self.default_url),
            max_retries=0,  # the engine retries, honouring Retry-After
            timeout=call_timeout(),
        )

    def complete(self, client: anthropic.Anthropic, prompt: Prompt) -> Completion:
        turns = [{"role": "user", "content": prompt.input}]
        turns += [{"role": role, "content": text} for role, text in prompt.history]
        arguments: dict[str, Any] = {
            "model": prompt.model,
            "max_tokens": prompt.max_output_tokens or DEFAULT_MAX_TOKENS,
            "messages": turns,
        }
        if prompt.instructions:
            arguments["system"] = [
                {
                    "type": "text",
                    "text": prompt.instructions,
                    "cache_control": {"type": "ephemeral"},
                }
            ]
        if prompt.temperature is not None:
            arguments["temperature"] = prompt.temperature
        if prompt.schema is not None:
            arguments["tools"] = [
                {
                    "name": prompt.schema_name,
                    "description": "Record the answer in the required shape.",
                    "input_schema": prompt.schema,
                }
            ]
            arguments["tool_choice"] = {"type": "tool", "name": prompt.schema_name}
        with self.errors():
            answer = client.messages.create(timeout=call_timeout(), **arguments)
        if answer.stop_reason == "refusal":
            raise refused(self.name)
        text = "".join(b.text for b in answer.content if b.type == "text")
        data = next((b.input for b in answer.content if b.type == "tool_use"), None)
        return Completion(
            text=text,
            model=answer.model or prompt.model,
            finish_reason=answer.stop_reason or "",
            usage=from_anthropic(answer.usage),
            data=data,
        )

    def list_models(self, connection: Connection) -> list[dict[str, Any]]:
        with self.errors():
            page = self.client(connection).models.list(limit=100)
            return [{"id": m.id, "name": m.display_name or m.id, "context": None} for m in page]

    def map_error(self, exc: Exception) -> IntegrationError | None:
        import anthropic

        if isinstance(exc, anthropic.APIStatusError):
            body = exc.body if isinstance(exc.body, dict) else {}
            error = body.get("error") if isinstance(body.get("error"), dict) else {}
            detail = str(error.get("message") or exc.message)
            context = exc.status_code == 400 and "prompt is too long" in detail
            return by_status(
                exc.status_code, detail, self.name, exc.response.headers, context=context
            )
        if isinstance(exc, anthropic.APIConnectionError):
            return by_status(None, str(_("no answer in time")), self.name)
        return None
