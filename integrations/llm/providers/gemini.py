"""Gemini through the ``google-genai`` SDK (the native ``generateContent`` API, not its
OpenAI-compatible endpoint): the native answer reports ``cachedContentTokenCount`` and
``thoughtsTokenCount`` apart, which exact cost records need, and structured output is
``responseSchema``. The SDK's own retries stay off (one attempt); the engine retries."""

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
from integrations.llm.usage import from_gemini

if TYPE_CHECKING:
    from google import genai
    from google.genai import errors as genai_errors

REFUSALS = {"SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION"}
# OpenAPI-style type names, as responseSchema takes them.
TYPES = {
    "string": "STRING",
    "number": "NUMBER",
    "integer": "INTEGER",
    "boolean": "BOOLEAN",
    "array": "ARRAY",
    "object": "OBJECT",
}


def response_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON schema in the subset ``responseSchema`` takes: one type (a nullable one is
    ``nullable``), ``enum``, ``format``, ``properties``, ``required``, ``items``."""
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    real = [k for k in kinds if k != "null"]
    out: dict[str, Any] = {"type": TYPES.get(real[0] if real else "string", "STRING")}
    if "null" in kinds:
        out["nullable"] = True
    for key in ("description", "format"):
        if key in schema:
            out[key] = schema[key]
    if "enum" in schema:
        out["enum"] = [v for v in schema["enum"] if v is not None]
    if "properties" in schema:
        out["properties"] = {k: response_schema(v) for k, v in schema["properties"].items()}
        out["required"] = list(schema.get("required", []))
        out["propertyOrdering"] = list(schema["properties"])
    if "items" in schema:
        out["items"] = response_schema(schema["items"])
    return out


class GeminiIntegration(ProviderIntegration):
    slug = "gemini"
    name = "Gemini"
    url_setting = "GEMINI_BASE_URL"
    default_url = "https://generativelanguage.googleapis.com"

    @cached_client
    def client(self, connection: Connection) -> genai.Client:
        # Imported here: the SDK is ~14 MB, paid only by a process that calls it.
        from google import genai
        from google.genai import types

        return genai.Client(
            api_key=connection.fresh_token(),
            http_options=types.HttpOptions(
                base_url=base_url(connection, self.url_setting, self.default_url),
                api_version="v1beta",
                timeout=int(call_timeout() * 1000),
                retry_options=types.HttpRetryOptions(attempts=1),
            ),
        )

    def complete(self, client: genai.Client, prompt: Prompt) -> Completion:
        from google.genai import types

        contents = [types.Content(role="user", parts=[types.Part(text=prompt.input)])]
        for role, text in prompt.history:
            contents.append(
                types.Content(
                    role="model" if role == "assistant" else "user", parts=[types.Part(text=text)]
                )
            )
        config: dict[str, Any] = {}
        if prompt.instructions:
            config["system_instruction"] = prompt.instructions
        if prompt.temperature is not None:
            config["temperature"] = prompt.temperature
        if prompt.max_output_tokens:
            config["max_output_tokens"] = prompt.max_output_tokens
        if prompt.schema is not None:
            config["response_mime_type"] = "application/json"
            config["response_schema"] = response_schema(prompt.schema)
        with self.errors():
            answer = client.models.generate_content(
                model=prompt.model,
                contents=contents,
                config=types.GenerateContentConfig(**config),
            )
        candidate = (answer.candidates or [None])[0]
        finish = str(getattr(candidate, "finish_reason", "") or "")
        finish = finish.rsplit(".", 1)[-1]
        feedback = answer.prompt_feedback
        if candidate is None or finish in REFUSALS or (feedback and feedback.block_reason):
            raise refused(self.name, finish or str(getattr(feedback, "block_reason", "")))
        text = "".join(p.text or "" for p in (candidate.content.parts or []) if not p.thought)
        data = None
        if prompt.schema is not None:
            import json

            try:
                data = json.loads(text)
            except ValueError:
                data = None
        return Completion(
            text=text,
            model=answer.model_version or prompt.model,
            finish_reason=finish,
            usage=from_gemini(answer.usage_metadata),
            data=data,
        )

    def list_models(self, connection: Connection) -> list[dict[str, Any]]:
        with self.errors():
            found = []
            for m in self.client(connection).models.list(config={"page_size": 100}):
                if "generateContent" not in (m.supported_actions or []):
                    continue
                found.append(
                    {
                        "id": (m.name or "").removeprefix("models/"),
                        "name": m.display_name or m.name,
                        "context": m.input_token_limit,
                    }
                )
            return found

    def map_error(self, exc: Exception) -> IntegrationError | None:
        from google.genai import errors as genai_errors

        if isinstance(exc, genai_errors.APIError):
            detail = str(exc.message or exc.status or exc.code)
            reasons = {d.get("reason") for d in _details(exc) if isinstance(d, dict)}
            status = exc.code
            if "API_KEY_INVALID" in reasons or exc.status == "UNAUTHENTICATED":
                status = 401  # Gemini answers a bad key with 400 INVALID_ARGUMENT
            context = status == 400 and "token count" in detail and "exceeds" in detail
            headers = getattr(exc.response, "headers", None)
            return by_status(status, detail, self.name, headers, context=context)
        if type(exc).__module__.startswith(("httpx", "httpcore")):
            return by_status(None, str(_("no answer in time")), self.name)
        return None


def _details(exc: genai_errors.APIError) -> list:
    body = exc.details if isinstance(exc.details, dict) else {}
    error = body.get("error") if isinstance(body.get("error"), dict) else body
    return error.get("details") or []
