"""A fake of the Gemini API as the ``google-genai`` SDK calls it, on 127.0.0.1.

Routes: ``POST /v1beta/models/{model}:generateContent``, ``GET /v1beta/models`` (paged with
``pageSize``/``pageToken``). Keys in ``x-goog-api-key`` (``issue_key()``). Answers follow the
SDK's ``GenerateContentResponse``: ``candidates[0].content.parts``, ``finishReason``
(``STOP``, ``MAX_TOKENS``, ``SAFETY``), ``modelVersion`` and ``usageMetadata`` where
``promptTokenCount`` includes ``cachedContentTokenCount`` (a repeated system instruction of
1,024 tokens or more is read from the implicit cache) and ``thoughtsTokenCount`` (2.5
models think) comes in addition to ``candidatesTokenCount``. ``responseSchema`` (OpenAPI
types in capitals) or ``responseJsonSchema`` is answered from the input. Errors have
Google's body ``{"error": {"code", "message", "status", "details"}}``: a bad key is 400
``INVALID_ARGUMENT`` with reason ``API_KEY_INVALID``; 400 for too many input tokens; 404
``NOT_FOUND``; 429 ``RESOURCE_EXHAUSTED`` (with ``Retry-After`` and a ``RetryInfo``); 500
``INTERNAL``; 503 ``UNAVAILABLE`` ("The model is overloaded").
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from tests.fakes import llm_answers
from tests.fakes.kit import FakeApp, Reply, Request, Response, paginate, route

MODELS = {
    # id: (display name, input token limit, thinks)
    "gemini-2.5-flash": ("Gemini 2.5 Flash", 1_048_576, True),
    "gemini-2.0-flash": ("Gemini 2.0 Flash", 1_048_576, False),
}
THOUGHTS = 48
STATUSES = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
WORDS = {
    429: "You exceeded your current quota, please check your plan and billing details.",
    500: "An internal error has occurred. Please retry or report in "
    "https://developers.generativeai.google/guide/troubleshooting",
    503: "The model is overloaded. Please try again later.",
}


def body_of(code: int, message: str | None = None, details: list | None = None) -> dict:
    error = {
        "code": code,
        "message": message or WORDS.get(code, "Request failed."),
        "status": STATUSES.get(code, "UNKNOWN"),
    }
    if details:
        error["details"] = details
    return {"error": error}


def _text(parts: Any) -> str:
    return "".join(p.get("text", "") for p in parts or [] if isinstance(p, dict))


class FakeGemini(FakeApp):
    name = "gemini"

    def __init__(self, **kw: Any):
        super().__init__(**kw)
        self.keys: set[str] = set()
        self.models = dict(MODELS)
        self._invalid = 0
        self._seen: set[str] = set()

    def settings(self) -> dict[str, str]:
        return {"GEMINI_BASE_URL": self.origin}

    def issue_key(self) -> str:
        key = "AIza" + secrets.token_urlsafe(26)
        with self.lock:
            self.keys.add(key)
        return key

    def invalid_next(self, times: int = 1) -> None:
        with self.lock:
            self._invalid += times

    def token_of(self, request: Request) -> str | None:
        return request.headers.get("x-goog-api-key") or request.arg("key")

    def error_body(self, status: int, request: Request) -> Any:
        return body_of(status)

    def rate_limited(self, request: Request, retry_after: int) -> Response:
        details = [
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{retry_after}s"}
        ]
        return Response(429, body_of(429, None, details), {"Retry-After": str(retry_after)})

    def _auth(self, request: Request) -> None:
        key = self.token_of(request)
        with self.lock:
            known = key in self.keys
        if not known:
            details = [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com",
                    "metadata": {"service": "generativelanguage.googleapis.com"},
                }
            ]
            raise Reply(
                Response(
                    400, body_of(400, "API key not valid. Please pass a valid API key.", details)
                )
            )

    @route("GET", "/v1beta/models", name="models.list")
    def list_models(self, request: Request) -> Response:
        self._auth(request)
        size = int(request.arg("pageSize") or 50)
        start = int(request.arg("pageToken") or 0)
        everything = [
            {
                "name": f"models/{m}",
                "version": "001",
                "displayName": name,
                "inputTokenLimit": limit,
                "outputTokenLimit": 65536,
                "supportedGenerationMethods": ["generateContent", "countTokens"],
            }
            for m, (name, limit, _thinks) in self.models.items()
        ]
        page, following = paginate(everything, start, size)
        body: dict[str, Any] = {"models": page}
        if following is not None:
            body["nextPageToken"] = str(following)
        return Response(200, body)

    @route("POST", "/v1beta/models/{model}:generateContent", name="models.generateContent")
    def generate(self, request: Request) -> Response:
        self._auth(request)
        model = request.params["model"]
        if model not in self.models:
            return Response(
                404,
                body_of(
                    404,
                    f"models/{model} is not found for API version v1beta, or is not "
                    "supported for generateContent.",
                ),
            )
        body = request.body if isinstance(request.body, dict) else {}
        contents = body.get("contents") or []
        if not contents:
            return Response(
                400, body_of(400, "* GenerateContentRequest.contents: contents is not specified")
            )
        _name, limit, thinks = self.models[model]
        system = _text((body.get("systemInstruction") or {}).get("parts"))
        text = _text(contents[0].get("parts"))
        prompt = llm_answers.tokens(system) + sum(
            llm_answers.tokens(_text(c.get("parts"))) for c in contents
        )
        if prompt > limit:
            return Response(
                400,
                body_of(
                    400,
                    f"The input token count ({prompt}) exceeds the maximum number of "
                    f"tokens allowed ({limit}).",
                ),
            )
        config = body.get("generationConfig") or {}
        schema = config.get("responseSchema") or config.get("responseJsonSchema")
        finish = "STOP"
        if llm_answers.refuses(text):
            return Response(
                200,
                {
                    "candidates": [{"finishReason": "SAFETY", "index": 0, "safetyRatings": []}],
                    "usageMetadata": {"promptTokenCount": prompt, "totalTokenCount": prompt},
                    "modelVersion": model,
                    "responseId": secrets.token_urlsafe(12),
                },
            )
        if schema:
            with self.lock:
                broken = self._invalid > 0
                self._invalid -= 1 if broken else 0
            value = llm_answers.invalid(schema) if broken else llm_answers.structured(schema, text)
            answer = json.dumps(value)
        else:
            answer = llm_answers.plain(system, text)
        candidates = llm_answers.tokens(answer)
        most = config.get("maxOutputTokens")
        if most and candidates > int(most):
            answer, candidates, finish = answer[: int(most) * 4], int(most), "MAX_TOKENS"
        cached = 0
        with self.lock:
            if system in self._seen and prompt >= 1024:
                cached = llm_answers.tokens(system)
            self._seen.add(system)
        thoughts = THOUGHTS if thinks else 0
        usage: dict[str, Any] = {
            "promptTokenCount": prompt,
            "candidatesTokenCount": candidates,
            "totalTokenCount": prompt + candidates + thoughts,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}],
        }
        if cached:
            usage["cachedContentTokenCount"] = cached
        if thoughts:
            usage["thoughtsTokenCount"] = thoughts
        return Response(
            200,
            {
                "candidates": [
                    {
                        "content": {"parts": [{"text": answer}], "role": "model"},
                        "finishReason": finish,
                        "index": 0,
                    }
                ],
                "usageMetadata": usage,
                "modelVersion": model,
                "responseId": secrets.token_urlsafe(12),
            },
        )
