"""A small kit for faithful fake HTTP APIs served on 127.0.0.1.

A fake is a ``FakeApp`` subclass whose handler methods are registered with ``@route``. The
kit owns the socket, the request log, programmable faults, token bookkeeping and the shared
OAuth mechanics (consent page, single-use codes, PKCE); each app fake only supplies its paths,
its JSON shapes and its error bodies.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import secrets
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


# ---------------------------------------------------------------- requests and responses


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    raw: bytes
    body: Any = None  # dict for JSON/form bodies, None when empty
    body_error: str | None = None  # set when the body could not be parsed
    params: dict[str, str] = field(default_factory=dict)  # path parameters
    route: str = ""

    def arg(self, name: str, default: str | None = None) -> str | None:
        """A query-string value (last one wins, as most servers do)."""
        values = self.query.get(name)
        return values[-1] if values else default

    def args(self, name: str) -> list[str]:
        return self.query.get(name, [])

    def merged(self) -> dict[str, Any]:
        """Query-string values overlaid with the body's, as OAuth endpoints read them."""
        params: dict[str, Any] = {k: v[-1] for k, v in self.query.items()}
        if isinstance(self.body, dict):
            params.update(self.body)
        return params

    def field(self, name: str, default: Any = None) -> Any:
        """A value from the body when it is a dict, else from the query string."""
        if isinstance(self.body, dict) and name in self.body:
            return self.body[name]
        return self.arg(name, default)

    @property
    def bearer(self) -> str | None:
        auth = self.headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            return auth[7:].strip() or None
        return None

    @property
    def basic(self) -> tuple[str, str] | None:
        auth = self.headers.get("authorization", "")
        if auth[:6].lower() != "basic ":
            return None
        try:
            decoded = base64.b64decode(auth[6:].strip()).decode()
        except ValueError:
            return None
        user, sep, password = decoded.partition(":")
        return (user, password) if sep else None


@dataclass
class Response:
    status: int = 200
    body: Any = None  # dict/list → JSON, str → text/html, bytes as is
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode(), "text/html; charset=utf-8"
        if self.body is None:
            return b"", "application/json; charset=utf-8"
        return json.dumps(self.body).encode(), "application/json; charset=utf-8"


class Reply(Exception):
    """Raise from anywhere in a handler to answer with ``response`` at once."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def redirect(url: str) -> Response:
    return Response(302, "", {"Location": url})


def add_query(url: str, **params: str | None) -> str:
    clean = {k: v for k, v in params.items() if v is not None}
    return url + ("&" if "?" in url else "?") + urlencode(clean)


# ---------------------------------------------------------------- the request log


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    route: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    token: str | None
    status: int
    at: float


class RequestLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[Call] = []

    def add(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)

    def all(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._calls)


# ---------------------------------------------------------------- routing


def route(method: str, pattern: str, name: str | None = None) -> Callable:
    """Register a handler for ``method`` ("*" for any) and a path with ``{param}`` parts.

    ``name`` is what the log, faults and ``calls()`` use; it defaults to the pattern.
    """

    def mark(func: Callable) -> Callable:
        func.__dict__.setdefault("_routes", []).append((method.upper(), pattern, name or pattern))
        return func

    return mark


def _compile(pattern: str) -> re.Pattern[str]:
    parts = re.split(r"(\{\w+\})", pattern)
    regex = "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{regex}/?$")


@dataclass
class _Route:
    method: str
    regex: re.Pattern[str]
    name: str
    handler: Callable[[Request], Response]


# ---------------------------------------------------------------- tokens and OAuth state


@dataclass
class Token:
    value: str
    kind: str = "access"  # access | refresh
    client_id: str | None = None
    scopes: tuple[str, ...] = ()
    expires_at: float | None = None
    status: str = "active"  # active | expired | revoked | used
    # App-specific facts (team, user, bot id...) and the paired token.
    data: dict[str, Any] = field(default_factory=dict)
    pair: str | None = None

    @property
    def state(self) -> str:
        if (
            self.status == "active"
            and self.expires_at is not None
            and time.time() >= self.expires_at
        ):
            return "expired"
        return self.status


@dataclass
class Grant:
    """An authorization code and what it was issued for."""

    code: str
    client_id: str
    redirect_uri: str | None
    redirect_in_authorize: bool
    params: dict[str, str]
    expires_at: float
    used: bool = False


@dataclass
class _Fault:
    response: Callable[[Request], Response] | None
    times: int | None  # None = until cleared
    delay: float = 0.0


def pkce_challenge(verifier: str, method: str = "S256") -> str:
    if method == "plain":
        return verifier
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


# ---------------------------------------------------------------- the server


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without TCP_NODELAY the second waits for the
    # client's delayed ACK (~40 ms a request on Linux), which no real app adds.
    disable_nagle_algorithm = True
    server_version = "FakeApp/1"
    app: FakeApp

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            raw=raw,
        )
        response = self.app.handle(request)
        payload, content_type = response.encode()
        self.send_response(response.status)
        headers = {"Content-Type": content_type, **response.headers}
        for name, value in headers.items():
            self.send_header(name, str(value))
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Idle keep-alive connections must not hold up stop().
    block_on_close = False


class FakeApp:
    """Base class of every fake: a threaded HTTP server plus the shared machinery."""

    name = "fake"
    # OAuth defaults; each fake overrides what differs.
    code_ttl = 600.0
    default_client_id = "fake-client-id"
    default_client_secret = "fake-client-secret"

    def __init__(
        self,
        *,
        port: int = 0,
        client_id: str | None = None,
        client_secret: str | None = None,
        redirect_uris: set[str] | None = None,
    ) -> None:
        self.port = port
        self.client_id = client_id or self.default_client_id
        self.client_secret = client_secret or self.default_client_secret
        # Empty: any http(s) loopback redirect URI is accepted.
        self.redirect_uris: set[str] = set(redirect_uris or ())
        self.auto_approve = False
        self.log = RequestLog()
        self.lock = threading.RLock()
        self.tokens: dict[str, Token] = {}
        self.grants: dict[str, Grant] = {}
        self._deny = 0
        self._faults: dict[str, deque[_Fault]] = defaultdict(deque)
        self._delays: dict[str, float] = {}
        self._refresh_failures = 0
        self._limiter: tuple[int, float, str | None] | None = None
        self._windows: dict[tuple[str | None, str], deque[float]] = defaultdict(deque)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._routes: list[_Route] = []
        for attr in dir(type(self)):
            func = getattr(type(self), attr, None)
            for method, pattern, rname in getattr(func, "_routes", ()):
                self._routes.append(_Route(method, _compile(pattern), rname, getattr(self, attr)))
        # Literal paths win over patterns so "/pages/{id}" cannot shadow a fixed path.
        self._routes.sort(key=lambda r: r.regex.pattern.count("(?P<"))

    # -- lifecycle

    def start(self) -> FakeApp:
        handler = type("Handler", (_Handler,), {"app": self})
        self._server = _Server(("127.0.0.1", self.port), handler)
        self.port = self._server.server_address[1]
        # A short poll interval keeps stop() quick; tests start and stop many fakes.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=f"fake-{self.name}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeApp:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def settings(self) -> dict[str, str]:
        """The settings our app reads to find this fake (overridden per app)."""
        return {}

    # -- request log

    def calls(self, route: str | None = None) -> list[Call]:
        """Logged calls, all or those of one route name (e.g. ``"chat.postMessage"``)."""
        return [c for c in self.log.all() if route is None or route in (c.route, c.path)]

    # -- faults

    def fail_next(
        self,
        route: str = "*",
        *,
        status: int = 500,
        body: Any = None,
        headers: dict[str, str] | None = None,
        times: int | None = 1,
    ) -> None:
        """The next ``times`` calls of ``route`` (``None``: every call until
        ``clear_faults()``) get this answer instead of the real one.

        With no ``body`` the app's own error body for ``status`` is sent.
        """

        def answer(request: Request) -> Response:
            payload = body if body is not None else self.error_body(status, request)
            return Response(status, payload, dict(headers or {}))

        self._add_fault(route, _Fault(answer, times))

    def rate_limit(self, route: str = "*", *, retry_after: int = 1, times: int | None = 1) -> None:
        """The next ``times`` calls of ``route`` (``None``: until cleared) get the app's real
        429 with ``Retry-After``."""
        self._add_fault(route, _Fault(lambda r: self.rate_limited(r, retry_after), times))

    def delay(self, route: str = "*", seconds: float = 0.0, *, times: int | None = None) -> None:
        """Answer ``route`` late: for ``times`` calls, or until ``delay(route, 0)``."""
        if times is None:
            if seconds:
                self._delays[route] = seconds
            else:
                self._delays.pop(route, None)
        else:
            self._add_fault(route, _Fault(None, times, seconds))

    def clear_faults(self) -> None:
        with self.lock:
            self._faults.clear()
            self._delays.clear()
            self._limiter = None
            self._windows.clear()
            self._refresh_failures = 0

    def limit_rate(self, requests: int, per_seconds: float, *, route: str | None = None) -> None:
        """A per-token sliding-window limit, answered with the app's real 429."""
        with self.lock:
            self._limiter = (requests, per_seconds, route)
            self._windows.clear()

    def fail_refresh(self, times: int = 1) -> None:
        """The next ``times`` refresh-token grants fail the way the app fails them."""
        with self.lock:
            self._refresh_failures += times

    def _add_fault(self, route: str, fault: _Fault) -> None:
        with self.lock:
            self._faults[route].append(fault)

    def _take_fault(self, route: str) -> _Fault | None:
        with self.lock:
            for key in (route, "*"):
                queue = self._faults.get(key)
                if queue:
                    fault = queue[0]
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            queue.popleft()
                    return fault
        return None

    def take_refresh_failure(self) -> bool:
        with self.lock:
            if self._refresh_failures > 0:
                self._refresh_failures -= 1
                return True
        return False

    def _over_limit(self, request: Request, token: str | None) -> int | None:
        """Seconds to wait when this call breaks the per-token limit, else None."""
        with self.lock:
            if self._limiter is None:
                return None
            limit, window, only = self._limiter
            if only is not None and request.route != only:
                return None
            now = time.monotonic()
            hits = self._windows[(only, token or "")]
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                return max(1, int(hits[0] + window - now + 0.999))
            hits.append(now)
            return None

    # -- faults switched from another process

    CONTROL_PATH = "/_fake/faults"

    def control(self, request: Request) -> Response:
        """``POST /_fake/faults`` with a JSON body switches fault modes at runtime, for a fake
        serving another process (a benchmark's): ``{"fail": {"route": …, "status": 503,
        "times": null}}``, ``{"rate_limit": {"route": …, "retry_after": 2, "times": null}}``,
        ``{"limit_rate": {"requests": 1, "per_seconds": 1, "route": …}}``,
        ``{"clear": true}``. ``GET /_fake/faults?route=…&field=…`` answers how many calls of
        the route were answered with each status per value of a body field."""
        if request.method == "GET":
            route, name = request.arg("route"), request.arg("field")
            counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
            for call in self.calls(route):
                value = (call.body or {}).get(name) if isinstance(call.body, dict) else None
                counts[str(value)][str(call.status)] += 1
            return Response(200, {"ok": True, "calls": counts})
        self.parse_body(request)
        order = request.body if isinstance(request.body, dict) else {}
        switches = {
            "clear": lambda _: self.clear_faults(),
            "fail": lambda a: self.fail_next(**a),
            "rate_limit": lambda a: self.rate_limit(**a),
            "limit_rate": lambda a: self.limit_rate(**a),
        }
        unknown = set(order) - set(switches)
        if not order or unknown:
            known = ", ".join(switches)
            return Response(400, {"ok": False, "error": f"expected one of {known}"})
        try:
            for name, arguments in order.items():
                switches[name](arguments if isinstance(arguments, dict) else {})
        except TypeError as exc:
            return Response(400, {"ok": False, "error": str(exc)})
        return Response(200, {"ok": True})

    # -- dispatch

    def handle(self, request: Request) -> Response:
        if request.path == self.CONTROL_PATH:
            return self.control(request)
        for candidate in self._routes:
            match = candidate.regex.match(request.path)
            if match and candidate.method in ("*", request.method):
                request.params = match.groupdict()
                request.route = candidate.name
                handler = candidate.handler
                break
        else:
            handler = self.not_found
            request.route = request.path
        response = self._dispatch(request, handler)
        self.log.add(
            Call(
                method=request.method,
                path=request.path,
                route=request.route,
                query=request.query,
                headers=request.headers,
                body=request.body,
                token=self.token_of(request),
                status=response.status,
                at=time.time(),
            )
        )
        return response

    def _dispatch(self, request: Request, handler: Callable[[Request], Response]) -> Response:
        self.parse_body(request)
        pause = self._delays.get(request.route, self._delays.get("*", 0.0))
        fault = self._take_fault(request.route)
        if fault is not None:
            pause += fault.delay
        if pause:
            time.sleep(pause)
        if fault is not None and fault.response is not None:
            return fault.response(request)
        wait = self._over_limit(request, self.token_of(request))
        if wait is not None:
            return self.rate_limited(request, wait)
        try:
            return handler(request)
        except Reply as reply:
            return reply.response

    def parse_body(self, request: Request) -> None:
        if not request.raw:
            return
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype == "application/x-www-form-urlencoded":
            form = parse_qs(request.raw.decode(), keep_blank_values=True)
            request.body = {k: v[-1] for k, v in form.items()}
            return
        try:
            request.body = json.loads(request.raw)
        except ValueError as exc:
            request.body_error = str(exc)

    # -- what each app answers (overridden per app)

    def token_of(self, request: Request) -> str | None:
        return request.bearer

    def not_found(self, request: Request) -> Response:
        return Response(404, {"error": "not_found"})

    def error_body(self, status: int, request: Request) -> Any:
        return {"error": f"HTTP {status}"}

    def rate_limited(self, request: Request, retry_after: int) -> Response:
        return Response(429, {"error": "rate_limited"}, {"Retry-After": str(retry_after)})

    # -- tokens

    def mint(self, prefix: str, nbytes: int = 24) -> str:
        return prefix + secrets.token_urlsafe(nbytes)

    def add_token(self, token: Token) -> Token:
        with self.lock:
            self.tokens[token.value] = token
        return token

    def token(self, value: str | None) -> Token | None:
        with self.lock:
            return self.tokens.get(value) if value else None

    def expire_token(self, value: str) -> None:
        """The token stays known but is past its lifetime: the app's "expired" error."""
        with self.lock:
            self.tokens[value].status = "expired"

    def revoke_token(self, value: str) -> None:
        """Revoke a token and its pair (access ↔ refresh), as a user removing the app does."""
        with self.lock:
            tok = self.tokens[value]
            tok.status = "revoked"
            if tok.pair and tok.pair in self.tokens:
                self.tokens[tok.pair].status = "revoked"

    # -- OAuth: the authorize step

    def redirect_allowed(self, uri: str) -> bool:
        if self.redirect_uris:
            return uri in self.redirect_uris
        parts = urlsplit(uri)
        return parts.scheme in ("http", "https") and (parts.hostname or "") in LOOPBACK_HOSTS

    def deny_next(self, times: int = 1) -> None:
        """The next consents are refused, as a user pressing Cancel."""
        with self.lock:
            self._deny += times

    def authorize_error(self, request: Request) -> str | None:
        """What is wrong with an authorize request, shown as an error page (per app)."""
        return None

    def authorize(self, request: Request) -> Response:
        """Shared GET/POST handler for an app's authorize path.

        GET validates and shows the consent page (or approves at once with ``auto_approve``);
        POST is the consent form's answer.
        """
        params = {k: v[-1] for k, v in request.query.items()}
        if request.method == "POST" and isinstance(request.body, dict):
            params.update({k: str(v) for k, v in request.body.items()})
        decision = params.pop("decision", None)
        client_id = params.get("client_id")
        redirect_uri = params.get("redirect_uri")
        if not client_id or client_id != self.client_id:
            return self.error_page(400, "Invalid client_id.")
        if redirect_uri and not self.redirect_allowed(redirect_uri):
            return self.error_page(400, "redirect_uri did not match any configured URIs.")
        if not redirect_uri and not self.redirect_uris:
            return self.error_page(400, "Missing redirect_uri.")
        target = redirect_uri or sorted(self.redirect_uris)[0]
        problem = self.authorize_error(request)
        if problem:
            return self.error_page(400, problem)
        with self.lock:
            denied = self._deny > 0
            if denied and (decision or self.auto_approve):
                self._deny -= 1
        if decision is None and not self.auto_approve:
            return Response(200, self.consent_page(request.path, params))
        if denied or decision == "deny":
            return redirect(add_query(target, error="access_denied", state=params.get("state")))
        code = self.mint("code-", 18)
        with self.lock:
            self.grants[code] = Grant(
                code=code,
                client_id=client_id,
                redirect_uri=target,
                redirect_in_authorize=bool(redirect_uri),
                params=params,
                expires_at=time.time() + self.code_ttl,
            )
        return redirect(add_query(target, code=code, state=params.get("state")))

    def consent_page(self, action: str, params: dict[str, str]) -> str:
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in params.items()
        )
        title = html.escape(f"{self.display_name} would like to connect")
        return (
            "<!doctype html><html><head><meta charset='utf-8'>"
            f"<title>{title}</title></head><body>"
            f"<h1>{title}</h1>"
            f'<form method="post" action="{html.escape(action)}">{hidden}'
            '<button id="allow" type="submit" name="decision" value="allow">Allow</button> '
            '<button id="cancel" type="submit" name="decision" value="deny">Cancel</button>'
            "</form></body></html>"
        )

    display_name = "Fake"

    def error_page(self, status: int, message: str) -> Response:
        body = f"<!doctype html><title>Error</title><p class='error'>{html.escape(message)}</p>"
        return Response(status, body)

    # -- OAuth: the token step

    def client_credentials(self, request: Request) -> tuple[str | None, str | None]:
        """Client id and secret from HTTP Basic, else from the body."""
        if request.basic:
            return request.basic
        return request.field("client_id"), request.field("client_secret")

    def redeem(self, code: str | None, client_id: str | None) -> Grant | None:
        """Take a code once: unknown, used, expired or another client's → None.

        A replayed code also revokes what it issued, as RFC 6749 §4.1.2 suggests.
        """
        with self.lock:
            grant = self.grants.get(code or "")
            if grant is None or grant.client_id != client_id:
                return None
            if grant.used:
                for tok in self.tokens.values():
                    if tok.data.get("_code") == grant.code:
                        tok.status = "revoked"
                return None
            grant.used = True
            if time.time() >= grant.expires_at:
                return None
            return grant

    @staticmethod
    def pkce_ok(grant: Grant, verifier: str | None) -> bool:
        challenge = grant.params.get("code_challenge")
        if not challenge:
            return True
        if not verifier:
            return False
        method = grant.params.get("code_challenge_method", "plain")
        return secrets.compare_digest(pkce_challenge(verifier, method), challenge)

    def use_refresh(self, value: str | None, client_id: str | None) -> Token | None:
        """Spend a refresh token that rotates: it works once, then is ``used``."""
        with self.lock:
            tok = self.tokens.get(value or "")
            if tok is None or tok.kind != "refresh" or tok.state != "active":
                return None
            if tok.client_id is not None and tok.client_id != client_id:
                return None
            tok.status = "used"
            return tok


# ---------------------------------------------------------------- helpers for handlers


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true", "yes")


def paginate(items: list[Any], start: int, size: int) -> tuple[list[Any], int | None]:
    """One page and the index where the next page starts (None when done)."""
    page = items[start : start + size]
    nxt = start + size
    return page, (nxt if nxt < len(items) else None)


def consent(authorize_url: str, *, allow: bool = True) -> str:
    """Open a fake's consent page, press Allow (or Cancel) and return the redirect target.

    Stands in for a browser in tests that use plain HTTP clients.
    """
    import http.client

    def fetch(method: str, url: str, body: str | None = None) -> tuple[int, str, str]:
        parts = urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
        conn.request(method, target, body=body, headers=headers)
        resp = conn.getresponse()
        text = resp.read().decode()
        conn.close()
        return resp.status, resp.getheader("Location") or "", text

    status, location, page = fetch("GET", authorize_url)
    if status == 302:
        return location
    if status != 200:
        raise AssertionError(f"authorize page answered {status}: {page}")
    action = re.search(r'<form method="post" action="([^"]+)"', page)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', page))
    if action is None:
        raise AssertionError("no consent form on the authorize page")
    fields = {html.unescape(k): html.unescape(v) for k, v in fields.items()}
    fields["decision"] = "allow" if allow else "deny"
    parts = urlsplit(authorize_url)
    post_url = f"{parts.scheme}://{parts.netloc}{html.unescape(action.group(1))}"
    status, location, page = fetch("POST", post_url, urlencode(fields))
    if status != 302:
        raise AssertionError(f"consent answered {status}: {page}")
    return location
