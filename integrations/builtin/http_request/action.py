"""The HTTP request step: its fields, the request built from them, and the answer read back.

Which addresses it may call is decided in ``addresses`` and how it sends in ``transport``:
this module only turns a step's config into a request and the response into the step's
output.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Callable
from typing import Any

import requests
from django.utils.translation import gettext_lazy as _

from hub.mapping import MappingError, to_text
from integrations import http
from integrations.base import Action, Choice, Context, Field, OutputField
from integrations.builtin.http_request.addresses import fail
from integrations.builtin.http_request.transport import fetch

MAX_REQUEST_BYTES = 1024 * 1024
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
# Set by the client library from the request itself; a member overriding them could only
# confuse the server or our own size checks.
RESERVED_HEADERS = {"host", "content-length", "transfer-encoding", "connection"}


# --------------------------------------------------------------------------- request building


def _pairs(value: Any, label: str) -> list[tuple[str, str]]:
    """Key/value rows from the editor (a list of {key, value}) or a plain object."""
    if value in (None, "", []):
        return []
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = []
        for row in value:
            if not isinstance(row, dict) or "key" not in row:
                raise fail(f"{label}: each row needs a key and a value.")
            items.append((row["key"], row.get("value")))
    else:
        raise fail(f"{label}: expected rows of key and value.")
    out = []
    for key, val in items:
        name = to_text(key).strip()
        if not name:
            continue
        out.append((name, to_text(val)))
    return out


def _header(headers: dict[str, str], name: str, value: str) -> None:
    if name.lower() in RESERVED_HEADERS:
        raise fail(f"The header “{name}” is set automatically; remove it.")
    if not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name) or re.search(r"[\r\n]", value):
        raise fail(f"The header “{name[:40]}” has characters a header cannot hold.")
    headers[name] = value


def _headers(config: dict[str, Any]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in _pairs(config.get("headers"), "Headers"):
        _header(headers, name, value)
    return headers


def _sign_in(config: dict[str, Any], headers: dict[str, str]) -> str | None:
    """Add the sign-in header (its value a secret field) over any header row of the same
    name; returns the header's name, or None when there is no sign-in value."""
    value = to_text(config.get("auth_value") or "")
    if not value:
        return None
    name = to_text(config.get("auth_header") or "").strip() or "Authorization"
    for existing in [k for k in headers if k.lower() == name.lower()]:
        del headers[existing]
    _header(headers, name, value)
    return name


def _body(config: dict[str, Any], headers: dict[str, str]) -> bytes | None:
    kind = config.get("body_type") or "none"
    body = config.get("body")
    if kind == "none":
        return None
    lower = {k.lower() for k in headers}
    if kind == "json":
        if isinstance(body, str):
            try:
                body = json.loads(body) if body.strip() else None
            except ValueError:
                raise fail("The body is not valid JSON.") from None
        try:
            data = json.dumps(body, ensure_ascii=False).encode()
        except (TypeError, ValueError, RecursionError):
            raise fail("The body cannot be written as JSON.") from None
        if "content-type" not in lower:
            headers["Content-Type"] = "application/json"
    elif kind == "form":
        data = urllib.parse.urlencode(_pairs(body, "Body")).encode()
        if "content-type" not in lower:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif kind == "text":
        data = to_text(body).encode()
        if "content-type" not in lower:
            headers["Content-Type"] = "text/plain; charset=utf-8"
    else:
        raise fail(f"“{kind}” is not a body type; choose none, json, form or text.")
    if len(data) > MAX_REQUEST_BYTES:
        raise fail(f"The body is larger than {MAX_REQUEST_BYTES // 1024 // 1024} MB.")
    return data


def _decode(response: requests.Response, content: bytes) -> tuple[Any, str | None]:
    encoding = response.encoding or "utf-8"
    try:
        text = content.decode(encoding, errors="replace")
    except LookupError:
        text = content.decode("utf-8", errors="replace")
    content_type = response.headers.get("Content-Type", "").lower()
    stripped = text.lstrip()
    if "json" in content_type or stripped.startswith(("{", "[")):
        try:
            return json.loads(text), None
        except (ValueError, RecursionError):
            pass
    return None, text


def run(ctx: Context) -> dict[str, Any]:
    config = ctx.config
    method = to_text(config.get("method") or "GET").upper()
    if method not in METHODS:
        raise fail(f"“{method}” is not a method; choose one of {', '.join(METHODS)}.")
    url = to_text(config.get("url") or "").strip()
    params = _pairs(config.get("query"), "Query parameters")
    if params:
        url += ("&" if urllib.parse.urlsplit(url).query else "?") + urllib.parse.urlencode(params)
    headers = _headers(config)
    sign_in = _sign_in(config, headers)
    body = _body(config, headers)
    response, content = fetch(
        method, url, headers=headers, body=body, private=(sign_in,) if sign_in else ()
    )
    status = response.status_code
    if status >= 400:
        excerpt = http.scrub(content[:400].decode("utf-8", errors="replace").strip())[:200]
        message = f"The server answered HTTP {status}" + (f": {excerpt}" if excerpt else ".")
        error = http.error_for(response, message)
        if error.reauth:
            # No connection stands behind this step, so there is nothing to reconnect.
            error = fail(message)
        raise error
    parsed, text = _decode(response, content)
    return {
        "status": status,
        "headers": dict(response.headers.lower_items()),
        "json": parsed,
        "text": text,
    }


def _safe(fn: Callable[[Context], dict[str, Any]]) -> Callable[[Context], dict[str, Any]]:
    def wrapper(ctx: Context) -> dict[str, Any]:
        try:
            return fn(ctx)
        except MappingError as exc:
            raise fail(exc.message) from None

    return wrapper


ACTION = Action(
    key="http_request",
    label=_("Send a web request"),
    run=_safe(run),
    effect="write",
    help=_(
        "Calls a web address (an API or a webhook) and gives you its answer. Addresses on "
        "private networks are refused unless an admin allows them."
    ),
    fields=(
        Field(
            "method",
            _("Method"),
            kind="choice",
            required=True,
            default="GET",
            choices=tuple(Choice(m, m) for m in METHODS),
        ),
        Field("url", _("Web address"), required=True, help=_("Starts with https://.")),
        Field("query", _("Query parameters"), kind="list", help=_("Rows of key and value.")),
        Field(
            "headers",
            _("Headers"),
            kind="list",
            help=_(
                "Rows of key and value. They are stored and shown as written: put a key or "
                "password in “Sign-in value” instead."
            ),
        ),
        Field(
            "auth_header",
            _("Sign-in header"),
            default="Authorization",
            help=_("The header the service reads your key from: usually Authorization."),
        ),
        Field(
            "auth_value",
            _("Sign-in value"),
            kind="secret",
            help=_(
                "Your key or token as the service asks for it, for example “Bearer abc123”. "
                "Kept encrypted: never shown again, never exported, hidden in run history."
            ),
        ),
        Field(
            "body_type",
            _("Body"),
            kind="choice",
            default="none",
            choices=(
                Choice("none", _("No body")),
                Choice("json", _("JSON")),
                Choice("form", _("Form fields")),
                Choice("text", _("Plain text")),
            ),
        ),
        Field("body", _("Body content"), kind="json", help=_("JSON, form rows or text.")),
    ),
    outputs=(
        OutputField("status", _("Status code"), kind="number"),
        OutputField("headers", _("Response headers"), kind="json"),
        OutputField("json", _("Response (JSON)"), kind="json"),
        OutputField("text", _("Response (text)"), kind="long_text"),
    ),
    sample={
        "status": 200,
        "headers": {"content-type": "application/json"},
        "json": {"id": 123, "ok": True},
        "text": None,
    },
)
