"""HTTP request: call any public web address, safely.

A member-controlled URL is a server-side request forgery risk: it could reach the database,
the cloud metadata service or an admin panel on the private network. So before any
connection the host is resolved here, every address is checked, and the connection is then
made to the checked address itself (pinned), so a DNS answer that changes between the check
and the connection cannot redirect it. TLS still verifies the certificate for the original
host name, and the Host header stays the original. Redirects are followed by hand, each hop
checked the same way. Admins may allow hosts or networks in ``HTTP_STEP_ALLOWLIST``; cloud
metadata addresses are refused regardless.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import re
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import requests
import urllib3
from django.utils.translation import gettext_lazy as _
from requests.adapters import HTTPAdapter
from urllib3 import connection as urllib3_connection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from hub.mapping.values import MappingError, to_text
from integrations import http
from integrations.base import Action, Choice, Context, Field, IntegrationError, OutputField

MAX_RESPONSE_BYTES = 5 * 1024 * 1024
MAX_REQUEST_BYTES = 1024 * 1024
TOTAL_TIMEOUT = 30.0
CONNECT_TIMEOUT = 10.0
MAX_REDIRECTS = 5
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
# Set by the client library from the request itself; a member overriding them could only
# confuse the server or our own size checks.
RESERVED_HEADERS = {"host", "content-length", "transfer-encoding", "connection"}
# Not forwarded when a redirect leaves the original host.
CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})

IP = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_ADDRESSES = {
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, DigitalOcean, OpenStack
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
    )
}
METADATA_HOSTS = {"metadata.google.internal", "metadata.goog", "metadata"}
CGNAT = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _fail(message: str) -> IntegrationError:
    return IntegrationError(message, permanent=True)


# --------------------------------------------------------------------------- address checks


def allowlist() -> list[str]:
    """Hosts (``intranet.example``, ``*.corp.example``) and addresses or networks
    (``10.1.2.3``, ``10.0.0.0/8``) an admin allows, from the ``HTTP_STEP_ALLOWLIST`` setting
    (a list, a comma-separated string, or a callable returning either)."""
    try:
        from django.conf import settings

        if not settings.configured:
            return []
        value: Any = getattr(settings, "HTTP_STEP_ALLOWLIST", [])
    except ImportError:
        return []
    if callable(value):
        value = value()
    if isinstance(value, str):
        value = value.split(",")
    return [str(v).strip() for v in value or [] if str(v).strip()]


@dataclass(frozen=True)
class _Rules:
    hosts: tuple[str, ...]
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    @classmethod
    def load(cls, entries: Iterable[str]) -> _Rules:
        hosts, networks = [], []
        for entry in entries:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.append(entry.lower().rstrip("."))
        return cls(tuple(hosts), tuple(networks))

    def allows_host(self, host: str) -> bool:
        return any(
            host == rule or (rule.startswith("*.") and host.endswith(rule[1:]))
            for rule in self.hosts
        )

    def allows_ip(self, ip: IP) -> bool:
        return any(ip.version == net.version and ip in net for net in self.networks)


def is_metadata(ip: IP) -> bool:
    """A cloud metadata address, itself or wrapped in IPv6 (mapped, IPv4-compatible, 6to4,
    Teredo, NAT64): refused even when an admin allows a range around it."""
    if ip in METADATA_ADDRESSES:
        return True
    if not isinstance(ip, ipaddress.IPv6Address):
        return False
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    wrapped = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
    if ip in NAT64 or int(ip) >> 32 == 0:
        wrapped.append(low32)
    return any(w in METADATA_ADDRESSES for w in wrapped if w is not None)


def refusal(ip: IP) -> str | None:
    """Why an address may not be called, or None for a public address."""
    if is_metadata(ip):
        return "a cloud metadata service"
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return refusal(embedded) or "an IPv6 address wrapping an IPv4 one"
    checks = (
        (ip.is_loopback, "this server itself (loopback)"),
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (ip in CGNAT, "a carrier-grade NAT address"),
        (ip.is_private, "a private network"),
        (ip.is_reserved, "a reserved address"),
        (not ip.is_global, "an address that is not on the public internet"),
    )
    return next((why for bad, why in checks if bad), None)


def resolve(host: str, port: int) -> list[str]:
    """Every address the host name resolves to (A and AAAA)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


_NUMERIC_LABEL = re.compile(r"\d+|0[xX][0-9a-fA-F]*")


@dataclass(frozen=True)
class Target:
    url: str
    scheme: str
    host: str
    port: int
    ip: str


def check_url(url: str) -> Target:
    """Validate a URL and pick the checked address to connect to. Never connects."""
    if not isinstance(url, str) or not url.strip():
        raise _fail("Enter the web address to call, starting with https://.")
    url = url.strip()
    if len(url) > 8192:
        raise _fail("The web address is longer than 8,192 characters.")
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise _fail(f"Only http:// and https:// addresses can be called, not “{scheme}:”.")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise _fail("Put credentials in a header, not in the web address.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise _fail("The web address has no host name.")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise _fail("The web address has an invalid port.") from None
    where = f"“{host}”"
    if host in METADATA_HOSTS:
        raise _fail(f"This step cannot call {where}: it is a cloud metadata service.")
    literal: IP | None
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
        if all(_NUMERIC_LABEL.fullmatch(label) for label in host.split(".")):
            raise _fail(
                f"{where} is an unusual way of writing an IP address; "
                "write it as four numbers such as 93.184.216.34."
            ) from None
    rules = _Rules.load(allowlist())
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = [ipaddress.ip_address(a.split("%")[0]) for a in resolve(host, port)]
        except (OSError, UnicodeError, ValueError):
            raise IntegrationError(f"Could not find {where}: check the address.") from None
        if not addresses:
            raise IntegrationError(f"Could not find {where}: check the address.")
    host_allowed = rules.allows_host(host.lower())
    for ip in addresses:
        why = refusal(ip)
        if why is None:
            continue
        metadata = is_metadata(ip)
        if metadata or not (host_allowed or rules.allows_ip(ip)):
            shown = where if str(ip) == host else f"{where} ({ip})"
            hint = "" if metadata else " An admin can allow it."
            raise _fail(f"This step cannot call {shown}: it is {why}.{hint}")
    return Target(url=url, scheme=scheme, host=host, port=port, ip=str(addresses[0]))


# --------------------------------------------------------------------------- pinned transport


def _pinned_connection(cls: type, ip: str, watch: Callable[[socket.socket], None] | None) -> type:
    class Pinned(cls):  # type: ignore[misc, valid-type]
        # Connect to the address that was checked; ``self.host`` stays the name, so the
        # Host header, TLS SNI and certificate check all use the name the member gave.
        def _new_conn(self) -> socket.socket:
            try:
                sock = urllib3_connection.connection.create_connection(
                    (ip, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError as exc:
                raise ConnectTimeoutError(self, f"Connection to {self.host} timed out.") from exc
            except OSError as exc:
                raise NewConnectionError(self, f"Failed to connect: {exc}") from exc
            if watch is not None:
                watch(sock)
            return sock

    return Pinned


def pinned_session(
    ip: str, watch: Callable[[socket.socket], None] | None = None
) -> requests.Session:
    """A session whose every connection goes to ``ip``, ignoring proxies and netrc.
    ``watch`` is given each new socket, before any TLS handshake on it."""

    class Pool(HTTPConnectionPool):
        ConnectionCls = _pinned_connection(urllib3_connection.HTTPConnection, ip, watch)

    class TLSPool(HTTPSConnectionPool):
        ConnectionCls = _pinned_connection(urllib3_connection.HTTPSConnection, ip, watch)

    adapter = HTTPAdapter(max_retries=0, pool_connections=1, pool_maxsize=1)
    adapter.poolmanager.pool_classes_by_scheme = {"http": Pool, "https": TLSPool}
    session = requests.Session()
    session.trust_env = False
    session.headers["User-Agent"] = http.USER_AGENT
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


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
                raise _fail(f"{label}: each row needs a key and a value.")
            items.append((row["key"], row.get("value")))
    else:
        raise _fail(f"{label}: expected rows of key and value.")
    out = []
    for key, val in items:
        name = to_text(key).strip()
        if not name:
            continue
        out.append((name, to_text(val)))
    return out


def _header(headers: dict[str, str], name: str, value: str) -> None:
    if name.lower() in RESERVED_HEADERS:
        raise _fail(f"The header “{name}” is set automatically; remove it.")
    if not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name) or re.search(r"[\r\n]", value):
        raise _fail(f"The header “{name[:40]}” has characters a header cannot hold.")
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
                raise _fail("The body is not valid JSON.") from None
        try:
            data = json.dumps(body, ensure_ascii=False).encode()
        except (TypeError, ValueError, RecursionError):
            raise _fail("The body cannot be written as JSON.") from None
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
        raise _fail(f"“{kind}” is not a body type; choose none, json, form or text.")
    if len(data) > MAX_REQUEST_BYTES:
        raise _fail(f"The body is larger than {MAX_REQUEST_BYTES // 1024 // 1024} MB.")
    return data


# --------------------------------------------------------------------------- sending


class _Deadline:
    """The time limit of one whole exchange: connecting, sending, the status line and
    headers, the body, and every redirect hop.

    Socket timeouts only bound each single read, so a server sending one header byte a
    second would hold the step for as long as it likes. So a timer shuts down every socket
    of the exchange when the time is up: a read blocked anywhere (in the client library's
    header parsing, or inside TLS) returns at once. Each socket is watched through a
    duplicate of its descriptor, owned here, so the timer can never touch a descriptor that
    was closed and reused by someone else."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.expired = False
        self._lock = threading.Lock()
        self._watched: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def error(self) -> IntegrationError:
        return IntegrationError(f"The server did not finish answering in {self.seconds:g} s.")

    def remaining(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0 or self.expired:
            raise self.error()
        return left

    def check(self) -> None:
        """Raise the time-limit error if the time is up: an answer cut short by the timer
        can look complete (headers end at EOF), so it must not be taken as one."""
        self.remaining()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            if self.expired:
                _shut(sock)
                return
            self._watched.append(sock.dup())

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._watched:
                _shut(sock)

    def stop(self) -> None:
        self._timer.cancel()
        with self._lock:
            self.expired = self.expired or time.monotonic() >= self.end
            for sock in self._watched:
                sock.close()
            self._watched.clear()


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _read(response: requests.Response, deadline: _Deadline, limit: int) -> bytes:
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > limit:
        raise _fail(f"The response is larger than {limit // 1024 // 1024} MB.")
    chunks: list[bytes] = []
    size = 0
    try:
        # read1 returns whatever has arrived, so a server dripping bytes cannot hold the
        # read past the deadline; an empty chunk is the end of the body.
        while chunk := response.raw.read1(64 * 1024, decode_content=True):
            size += len(chunk)
            if size > limit:
                raise _fail(f"The response is larger than {limit // 1024 // 1024} MB.")
            chunks.append(chunk)
            deadline.remaining()
    except (urllib3.exceptions.HTTPError, OSError, requests.RequestException):
        deadline.check()
        raise IntegrationError("The server stopped answering part way through.") from None
    deadline.check()
    return b"".join(chunks)


def _send(
    method: str,
    target: Target,
    headers: dict[str, str],
    body: bytes | None,
    deadline: _Deadline,
) -> requests.Response:
    session = pinned_session(target.ip, deadline.watch)
    try:
        left = deadline.remaining()
        response = http.request(
            method,
            target.url,
            headers=headers,
            data=body,
            timeout=(min(CONNECT_TIMEOUT, left), left),
            raise_for_status=False,
            session=session,
            stream=True,
            allow_redirects=False,
        )
    except IntegrationError:
        deadline.check()
        raise
    except (requests.RequestException, ValueError) as exc:
        deadline.check()
        raise _fail(f"The request could not be sent: {http.scrub(str(exc))[:200]}") from None
    finally:
        session.close()
    deadline.check()
    return response


def fetch(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    read: Callable[[requests.Response, _Deadline, int], bytes] = _read,
    private: Iterable[str] = (),
) -> tuple[requests.Response, bytes]:
    """Send a request with every hop checked and pinned; return the final response and body.
    Credentials (``Authorization``, cookies and the ``private`` header names) are not
    forwarded when a redirect leaves the original host."""
    deadline = _Deadline(TOTAL_TIMEOUT)
    dropped = CREDENTIAL_HEADERS | {name.lower() for name in private}
    try:
        return _fetch(method, url, headers or {}, body, read, deadline, dropped)
    finally:
        deadline.stop()


def _fetch(method, url, headers, body, read, deadline, dropped) -> tuple[requests.Response, bytes]:
    headers = dict(headers)
    target = check_url(url)
    for _hop in range(MAX_REDIRECTS + 1):
        response = _send(method, target, headers, body, deadline)
        location = response.headers.get("Location")
        if response.status_code in (301, 302, 303, 307, 308) and location:
            response.close()
            next_url = urllib.parse.urljoin(target.url, location)
            try:
                next_target = check_url(next_url)
            except IntegrationError as exc:
                raise _fail(f"The server redirected to a refused address. {exc.message}") from None
            if response.status_code == 303 or (
                response.status_code in (301, 302) and method == "POST"
            ):
                method = "GET" if method != "HEAD" else "HEAD"
                body = None
                headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
            if (next_target.scheme, next_target.host, next_target.port) != (
                target.scheme,
                target.host,
                target.port,
            ):
                headers = {k: v for k, v in headers.items() if k.lower() not in dropped}
            target = next_target
            continue
        try:
            if response.status_code >= 400:
                content = read(response, deadline, 64 * 1024) if method != "HEAD" else b""
            else:
                content = read(response, deadline, MAX_RESPONSE_BYTES) if method != "HEAD" else b""
        finally:
            response.close()
        return response, content
    raise _fail(f"The server redirected more than {MAX_REDIRECTS} times.")


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
        raise _fail(f"“{method}” is not a method; choose one of {', '.join(METHODS)}.")
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
            error = _fail(message)
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
            raise _fail(exc.message) from None

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
