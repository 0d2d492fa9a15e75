"""A fake of Anthropic's Messages API as the ``anthropic`` SDK calls it, on 127.0.0.1.

Routes: ``POST /v1/messages``, ``GET /v1/models``. Keys in ``x-api-key`` or, as the SDK
sends them, ``Authorization: Bearer`` (``issue_key()``); ``anthropic-version`` is required.
Answers follow the SDK's ``Message`` type: ``content`` blocks (``text``, or ``tool_use``
with ``input`` when ``tool_choice`` forces a tool — built from the input to satisfy the
tool's ``input_schema``), ``stop_reason`` (``end_turn``, ``tool_use``, ``max_tokens``,
``refusal``) and ``usage`` where ``input_tokens`` counts only what was neither written to
nor read from the cache: a system block marked ``cache_control`` is written
(``cache_creation_input_tokens``) the first time and read (``cache_read_input_tokens``)
after. Errors have Anthropic's body ``{"type": "error", "error": {"type", "message"},
"request_id"}``: 401 ``authentication_error``, 400 ``invalid_request_error`` (``prompt is
too long``), 404 ``not_found_error``, 429 ``rate_limit_error`` with ``retry-after``, 500
``api_error``, 529 ``overloaded_error``.
"""

from __future__ import annotations

import secrets
from typing import Any

from tests.fakes import llm_answers
from tests.fakes.kit import FakeApp, Reply, Request, Response, route

MODELS = {
    # id: (display name, context window)
    "claude-sonnet-4-5": ("Claude Sonnet 4.5", 200_000),
    "claude-haiku-4-5": ("Claude Haiku 4.5", 200_000),
}
ERRORS = {
    400: ("invalid_request_error", "Invalid request."),
    401: ("authentication_error", "invalid x-api-key"),
    403: (
        "permission_error",
        "Your API key does not have permission to use the specified resource.",
    ),
    404: ("not_found_error", "The requested resource could not be found."),
    429: ("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit."),
    500: ("api_error", "Internal server error"),
    529: ("overloaded_error", "Overloaded"),
}


def body_of(status: int, message: str | None = None, type_: str | None = None) -> dict:
    kind, words = ERRORS.get(status, ("api_error", "Internal server error"))
    return {
        "type": "error",
        "error": {"type": type_ or kind, "message": message or words},
        "request_id": "req_" + secrets.token_hex(12),
    }


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(b.get("text", "") for b in content or [] if isinstance(b, dict))


class FakeAnthropic(FakeApp):
    name = "anthropic"

    def __init__(self, **kw: Any):
        super().__init__(**kw)
        self.keys: set[str] = set()
        self.models = dict(MODELS)
        self._invalid = 0
        self._cached: set[str] = set()

    def settings(self) -> dict[str, str]:
        return {"ANTHROPIC_BASE_URL": self.origin}

    def issue_key(self) -> str:
        key = "sk-ant-api03-" + secrets.token_urlsafe(24)
        with self.lock:
            self.keys.add(key)
        return key

    def invalid_next(self, times: int = 1) -> None:
        with self.lock:
            self._invalid += times

    def token_of(self, request: Request) -> str | None:
        return request.headers.get("x-api-key") or request.bearer

    def error_body(self, status: int, request: Request) -> Any:
        return body_of(status)

    def rate_limited(self, request: Request, retry_after: int) -> Response:
        return Response(
            429,
            body_of(429),
            {
                "retry-after": str(retry_after),
                "anthropic-ratelimit-requests-remaining": "0",
            },
        )

    def _auth(self, request: Request) -> None:
        key = self.token_of(request)
        with self.lock:
            known = key in self.keys
        if not known:
            raise Reply(Response(401, body_of(401)))
        if not request.headers.get("anthropic-version"):
            raise Reply(Response(400, body_of(400, "anthropic-version: header is required")))

    @route("GET", "/v1/models", name="models.list")
    def list_models(self, request: Request) -> Response:
        self._auth(request)
        data = [
            {
                "type": "model",
                "id": m,
                "display_name": name,
                "created_at": "2025-09-29T00:00:00Z",
            }
            for m, (name, _context) in self.models.items()
        ]
        return Response(
            200,
            {
                "data": data,
                "has_more": False,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
            },
        )

    @route("POST", "/v1/messages", name="messages.create")
    def messages(self, request: Request) -> Response:
        self._auth(request)
        body = request.body if isinstance(request.body, dict) else {}
        model = body.get("model")
        turns = body.get("messages")
        if not body.get("max_tokens"):
            return Response(400, body_of(400, "max_tokens: Field required"))
        if not isinstance(turns, list) or not turns:
            return Response(400, body_of(400, "messages: Field required"))
        if model not in self.models:
            return Response(404, body_of(404, f"model: {model}"))
        context = self.models[model][1]
        system_blocks = body.get("system") or []
        if isinstance(system_blocks, str):
            system_blocks = [{"type": "text", "text": system_blocks}]
        system = "".join(b.get("text", "") for b in system_blocks)
        marked = any(b.get("cache_control") for b in system_blocks)
        text = _text(turns[0].get("content"))
        whole = sum(llm_answers.tokens(_text(t.get("content"))) + 4 for t in turns)
        whole += llm_answers.tokens(system)
        if whole > context:
            return Response(
                400, body_of(400, f"prompt is too long: {whole} tokens > {context} maximum")
            )
        written = read = 0
        if marked and system:
            with self.lock:
                if system in self._cached:
                    read = llm_answers.tokens(system)
                else:
                    written = llm_answers.tokens(system)
                    self._cached.add(system)
        choice = body.get("tool_choice") or {}
        tools = {t.get("name"): t for t in body.get("tools") or []}
        stop = "end_turn"
        if llm_answers.refuses(text):
            content, stop = [], "refusal"
        elif choice.get("type") == "tool" and choice.get("name") in tools:
            schema = tools[choice["name"]].get("input_schema") or {}
            with self.lock:
                broken = self._invalid > 0
                self._invalid -= 1 if broken else 0
            value = llm_answers.invalid(schema) if broken else llm_answers.structured(schema, text)
            content = [
                {
                    "type": "tool_use",
                    "id": "toolu_" + secrets.token_urlsafe(16),
                    "name": choice["name"],
                    "input": value,
                }
            ]
            stop = "tool_use"
        else:
            content = [{"type": "text", "text": llm_answers.plain(system, text)}]
        output = sum(
            llm_answers.tokens(b.get("text") or str(b.get("input") or "")) for b in content
        )
        if output > int(body["max_tokens"]) and content and content[0]["type"] == "text":
            content[0]["text"] = content[0]["text"][: int(body["max_tokens"]) * 4]
            output, stop = int(body["max_tokens"]), "max_tokens"
        return Response(
            200,
            {
                "id": "msg_" + secrets.token_urlsafe(18),
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": content,
                "stop_reason": stop,
                "stop_sequence": None,
                "usage": {
                    "input_tokens": whole - written - read,
                    "cache_creation_input_tokens": written,
                    "cache_read_input_tokens": read,
                    "output_tokens": max(output, 1),
                    "service_tier": "standard",
                },
            },
            {"request-id": "req_" + secrets.token_hex(12)},
        )
