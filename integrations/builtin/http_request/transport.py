"""The transport of the HTTP request step: every connection pinned to the address that was
checked (``addresses``), every redirect hop checked again, and one deadline for the whole
exchange.

Pinning means a DNS answer that changes between the check and the connection cannot
redirect it. TLS still verifies the certificate for the original host name, and the Host
header stays the original. Redirects are followed by hand, each hop checked the same way.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3 import connection as urllib3_connection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from integrations import http
from integrations.base import IntegrationError
from integrations.builtin.http_request.addresses import Target, check_url, fail

MAX_RESPONSE_BYTES = 5 * 1024 * 1024
TOTAL_TIMEOUT = 30.0
CONNECT_TIMEOUT = 10.0
MAX_REDIRECTS = 5
# Not forwarded when a redirect leaves the original host.
CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})


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
        raise fail(f"The response is larger than {limit // 1024 // 1024} MB.")
    chunks: list[bytes] = []
    size = 0
    try:
        # read1 returns whatever has arrived, so a server dripping bytes cannot hold the
        # read past the deadline; an empty chunk is the end of the body.
        while chunk := response.raw.read1(64 * 1024, decode_content=True):
            size += len(chunk)
            if size > limit:
                raise fail(f"The response is larger than {limit // 1024 // 1024} MB.")
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
        raise fail(f"The request could not be sent: {http.scrub(str(exc))[:200]}") from None
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
                raise fail(f"The server redirected to a refused address. {exc.message}") from None
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
    raise fail(f"The server redirected more than {MAX_REDIRECTS} times.")
