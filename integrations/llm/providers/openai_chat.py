"""OpenAI and OpenAI-compatible servers (Ollama, vLLM, LM Studio, OpenRouter) through the
``openai`` SDK's Chat Completions, which every one of them serves. Structured output is
``response_format`` ``json_schema`` with ``strict`` (Ollama and vLLM honour it too)."""

from __future__ import annotations

import json
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
from integrations.llm.usage import from_openai

if TYPE_CHECKING:
    import openai


def messages(prompt: Prompt) -> list[dict[str, str]]:
    turns = [{"role": "system", "content": prompt.instructions}] if prompt.instructions else []
    turns.append({"role": "user", "content": prompt.input})
    turns += [{"role": role, "content": text} for role, text in prompt.history]
    return turns


class OpenAIIntegration(ProviderIntegration):
    slug = "openai"
    name = "OpenAI"
    url_setting = "OPENAI_BASE_URL"
    default_url = "https://api.openai.com/v1"
    # Newer OpenAI models take max_completion_tokens; most compatible servers max_tokens.
    limit_parameter = "max_completion_tokens"

    @cached_client
    def client(self, connection: Connection) -> openai.OpenAI:
        # Imported here: the SDK (with pydantic) is ~20 MB, paid only by a process that calls it.
        import openai

        return openai.OpenAI(
            # Servers without keys (Ollama) still need a non-empty value in the header.
            api_key=connection.fresh_token() or "none",
            base_url=base_url(connection, self.url_setting, self.default_url),
            max_retries=0,  # the engine retries, honouring Retry-After
            timeout=call_timeout(),
        )

    def complete(self, client: openai.OpenAI, prompt: Prompt) -> Completion:
        arguments: dict[str, Any] = {"model": prompt.model, "messages": messages(prompt)}
        if prompt.temperature is not None:
            arguments["temperature"] = prompt.temperature
        if prompt.max_output_tokens:
            arguments[self.limit_parameter] = prompt.max_output_tokens
        if prompt.schema is not None:
            arguments["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": prompt.schema_name,
                    "strict": True,
                    "schema": prompt.schema,
                },
            }
        with self.errors():
            answer = client.chat.completions.create(timeout=call_timeout(), **arguments)
        choice = answer.choices[0]
        message = choice.message
        usage = from_openai(answer.usage)
        if getattr(message, "refusal", None):
            raise refused(self.name, message.refusal)
        if choice.finish_reason == "content_filter":
            raise refused(self.name)
        text = message.content or ""
        data = None
        if prompt.schema is not None:
            data = _json_or_none(text)
        return Completion(
            text=text,
            model=answer.model or prompt.model,
            finish_reason=choice.finish_reason or "",
            usage=usage,
            data=data,
        )

    def list_models(self, connection: Connection) -> list[dict[str, Any]]:
        with self.errors():
            page = self.client(connection).models.list()
            return [{"id": m.id, "name": m.id, "context": None} for m in page]

    def map_error(self, exc: Exception) -> IntegrationError | None:
        import openai

        if isinstance(exc, openai.APIStatusError):
            body = exc.body if isinstance(exc.body, dict) else {}
            detail = str(body.get("message") or exc.message)
            code = str(body.get("code") or "")
            return by_status(
                exc.status_code,
                _scrub(detail),
                self.name,
                exc.response.headers,
                context=code == "context_length_exceeded",
            )
        if isinstance(exc, openai.APIConnectionError):
            return by_status(None, str(_("no answer in time")), self.name)
        return None


class OpenAICompatibleIntegration(OpenAIIntegration):
    """Any server that speaks OpenAI's Chat Completions, found by the connection's base URL;
    a key is optional (a local Ollama has none)."""

    slug = "openai_compatible"
    name = "OpenAI-compatible server"
    key_optional = True
    url_setting = ""
    default_url = "http://127.0.0.1:11434/v1"
    limit_parameter = "max_tokens"


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _scrub(detail: str) -> str:
    """OpenAI echoes part of a refused key ("Incorrect API key provided: sk-abc…"): drop it."""
    if "API key provided" in detail:
        return "Incorrect API key provided"
    return detail
