"""A fake of OpenAI's API as the ``openai`` SDK calls it (and of OpenAI-compatible servers:
Ollama, vLLM, LM Studio, OpenRouter), on 127.0.0.1.

Routes: ``POST /v1/chat/completions``, ``GET /v1/models``. Bearer keys (``issue_key()``;
``require_key=False`` for a keyless local server). Answers follow the SDK's
``ChatCompletion`` type: ``choices[0].message`` with ``content`` and ``refusal``,
``finish_reason`` (``stop``, ``length``), the dated model snapshot in ``model``, and
``usage`` with ``prompt_tokens_details.cached_tokens`` (included in ``prompt_tokens``; a
repeated prompt of 1,024 tokens or more reads its shared start from cache in 128-token
steps, as OpenAI's prompt caching does) and ``completion_tokens_details.reasoning_tokens``
(included in ``completion_tokens``; for reasoning models). Errors have OpenAI's body
``{"error": {"message", "type", "param", "code"}}``: 401 ``invalid_api_key``, 404
``model_not_found``, 400 ``context_length_exceeded``, 429 ``rate_limit_exceeded`` with
``retry-after`` and ``x-ratelimit-*`` headers, 500 ``server_error``, 503 overloaded.
Structured output (``response_format`` ``json_schema``) is built from the input
(``llm_answers``); ``invalid_next(n)`` breaks the next n structured answers.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from tests.fakes import llm_answers
from tests.fakes.kit import FakeApp, Reply, Request, Response, route

MODELS = {
    # id: (snapshot answered, context window, reasoning model)
    "gpt-4o-mini": ("gpt-4o-mini-2024-07-18", 128_000, False),
    "gpt-4.1-mini": ("gpt-4.1-mini-2025-04-14", 1_047_576, False),
    "o4-mini": ("o4-mini-2025-04-16", 200_000, True),
}
REASONING_TOKENS = 64


def error(status: int, message: str, type_: str, code: str | None, param: str | None = None):
    return Response(
        status, {"error": {"message": message, "type": type_, "param": param, "code": code}}
    )


class FakeOpenAI(FakeApp):
    name = "openai"

    def __init__(self, *, require_key: bool = True, models: dict | None = None, **kw: Any):
        super().__init__(**kw)
        self.require_key = require_key
        self.models = dict(models or MODELS)
        self.keys: set[str] = set()
        self._invalid = 0
        self._seen_prefixes: set[str] = set()

    def settings(self) -> dict[str, str]:
        return {"OPENAI_BASE_URL": f"{self.origin}/v1"}

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    def issue_key(self) -> str:
        key = "sk-test-" + secrets.token_urlsafe(18)
        with self.lock:
            self.keys.add(key)
        return key

    def revoke_key(self, key: str) -> None:
        with self.lock:
            self.keys.discard(key)

    def add_model(self, model_id: str, context: int = 8192, reasoning: bool = False) -> None:
        self.models[model_id] = (model_id, context, reasoning)

    def invalid_next(self, times: int = 1) -> None:
        with self.lock:
            self._invalid += times

    # -- errors as OpenAI words them

    def error_body(self, status: int, request: Request) -> Any:
        if status == 401:
            return error(
                401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
            ).body
        if status == 429:
            return self._rate_body(request)
        if status == 503:
            return error(
                503,
                "The engine is currently overloaded, please try again later.",
                "server_error",
                None,
            ).body
        return error(
            status,
            "The server had an error while processing your request. Sorry about that!",
            "server_error",
            None,
        ).body

    def _rate_body(self, request: Request) -> dict:
        model = (
            (request.body or {}).get("model", "gpt-4o-mini")
            if isinstance(request.body, dict)
            else "gpt-4o-mini"
        )
        return {
            "error": {
                "message": f"Rate limit reached for {model} in organization org-fake on requests "
                "per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.",
                "type": "requests",
                "param": None,
                "code": "rate_limit_exceeded",
            }
        }

    def rate_limited(self, request: Request, retry_after: int) -> Response:
        return Response(
            429,
            self._rate_body(request),
            {
                "retry-after": str(retry_after),
                "x-ratelimit-limit-requests": "3",
                "x-ratelimit-remaining-requests": "0",
                "x-ratelimit-reset-requests": f"{retry_after}s",
            },
        )

    def _auth(self, request: Request) -> None:
        if not self.require_key:
            return
        key = request.bearer
        if not key:
            raise Reply(
                error(
                    401,
                    "You didn't provide an API key. You need to provide your API key in an "
                    "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                    "invalid_request_error",
                    None,
                )
            )
        with self.lock:
            known = key in self.keys
        if not known:
            raise Reply(
                error(
                    401,
                    f"Incorrect API key provided: {key[:3]}*****{key[-4:]}. You can find your "
                    "API key at https://platform.openai.com/account/api-keys.",
                    "invalid_request_error",
                    "invalid_api_key",
                )
            )

    # -- routes

    @route("GET", "/v1/models", name="models.list")
    def list_models(self, request: Request) -> Response:
        self._auth(request)
        data = [
            {"id": m, "object": "model", "created": 1721172741, "owned_by": "system"}
            for m in self.models
        ]
        return Response(200, {"object": "list", "data": data})

    @route("POST", "/v1/chat/completions", name="chat.completions")
    def chat(self, request: Request) -> Response:
        self._auth(request)
        body = request.body if isinstance(request.body, dict) else {}
        model = body.get("model")
        turns = body.get("messages")
        if not model or not isinstance(turns, list) or not turns:
            return error(
                400,
                "Missing required parameter: 'messages'.",
                "invalid_request_error",
                "missing_required_parameter",
                "messages",
            )
        if model not in self.models:
            return error(
                404,
                f"The model `{model}` does not exist or you do not have access to it.",
                "invalid_request_error",
                "model_not_found",
            )
        snapshot, context, reasoning = self.models[model]
        system = "\n".join(
            str(t.get("content") or "") for t in turns if t.get("role") in ("system", "developer")
        )
        users = [str(t.get("content") or "") for t in turns if t.get("role") == "user"]
        text = users[0] if users else ""
        prompt_tokens = sum(llm_answers.tokens(str(t.get("content") or "")) + 4 for t in turns) + 3
        if prompt_tokens > context:
            return error(
                400,
                f"This model's maximum context length is {context} tokens. However, your "
                f"messages resulted in {prompt_tokens} tokens. Please reduce the length of the "
                "messages.",
                "invalid_request_error",
                "context_length_exceeded",
                "messages",
            )
        cached = self._cached(system, prompt_tokens)
        fmt = body.get("response_format") or {}
        refusal = None
        if fmt.get("type") == "json_schema":
            schema = (fmt.get("json_schema") or {}).get("schema") or {}
            if llm_answers.refuses(text):
                content, refusal = None, "I'm sorry, I can't help with that request."
            else:
                content = self._structured(schema, text)
        elif llm_answers.refuses(text):
            content = "I'm sorry, I can't help with that."
        else:
            content = llm_answers.plain(system, text)
        finish = "stop"
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        completion = llm_answers.tokens(content or refusal or "")
        if limit and completion > int(limit):
            content = (content or "")[: int(limit) * 4]
            completion = int(limit)
            finish = "length"
        thinking = REASONING_TOKENS if reasoning else 0
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion + thinking,
            "total_tokens": prompt_tokens + completion + thinking,
            "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": thinking,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }
        answer = {
            "id": "chatcmpl-" + secrets.token_urlsafe(18),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": snapshot,
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": content,
                        "refusal": refusal,
                        "annotations": [],
                    },
                    "logprobs": None,
                    "finish_reason": finish,
                }
            ],
            "usage": usage,
            "service_tier": "default",
            "system_fingerprint": "fp_" + secrets.token_hex(5),
        }
        return Response(200, answer, {"x-request-id": "req_" + secrets.token_hex(16)})

    def _structured(self, schema: dict, text: str) -> str:
        import json

        with self.lock:
            broken = self._invalid > 0
            if broken:
                self._invalid -= 1
        answer = llm_answers.invalid(schema) if broken else llm_answers.structured(schema, text)
        return json.dumps(answer)

    def _cached(self, prefix: str, prompt_tokens: int) -> int:
        """Tokens read from the prompt cache: the instructions seen before, in 128s, for a
        prompt of at least 1,024 tokens."""
        with self.lock:
            seen = prefix in self._seen_prefixes
            self._seen_prefixes.add(prefix)
        if not seen or prompt_tokens < 1024:
            return 0
        return min(llm_answers.tokens(prefix), prompt_tokens) // 128 * 128
