from __future__ import annotations

import ipaddress
import json
import select
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from integrations.base import Context, IntegrationError
from integrations.builtin.http_request import ACTION, addresses, transport
from integrations.builtin.http_request.addresses import check_url, refusal

REAL_CONNECT = socket.socket.connect
REAL_GETADDRINFO = socket.getaddrinfo
SETTINGS_ALLOWLIST = addresses.allowlist


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[dict] = []
    # Bytes of body the /big and /drip answers wrote before they ended or the client left.
    written: list[int] = []

    def log_message(self, *args):
        pass

    def _reply(self, status, body=b"", content_type="text/plain", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self):
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        Handler.seen.append(
            {"method": self.command, "path": url.path, "headers": dict(self.headers)}
        )
        if url.path == "/json":
            echo = {
                "method": self.command,
                "query": query,
                "body": body.decode(),
                "host": self.headers.get("Host"),
                "auth": self.headers.get("Authorization"),
                "content_type": self.headers.get("Content-Type"),
                "x": self.headers.get("X-Test"),
            }
            self._reply(200, json.dumps(echo).encode(), "application/json")
        elif url.path == "/text":
            self._reply(200, "héllo".encode(), "text/plain; charset=utf-8")
        elif url.path.startswith("/status/"):
            status = int(url.path.rsplit("/", 1)[1])
            headers = [("Retry-After", "7")] if status in (429, 503) else []
            self._reply(status, b"something went wrong token=abc123", headers=headers)
        elif url.path == "/redirect":
            code = int(query.get("code", ["302"])[0])
            self._reply(code, headers=[("Location", query["to"][0])])
        elif url.path == "/loop":
            self._reply(302, headers=[("Location", "/loop")])
        elif url.path == "/big":
            size = int(query["size"][0])
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            if "nolength" not in query:
                self.send_header("Content-Length", str(size))
            self.send_header("Connection", "close")
            self.end_headers()
            chunk = b"x" * 65536
            sent = 0
            try:
                while sent < size:
                    self.wfile.write(chunk[: size - sent])
                    sent += len(chunk)
            except OSError:
                pass
            Handler.written.append(sent)
        elif url.path == "/slow":
            time.sleep(float(query["s"][0]))
            self._reply(200, b"late")
        elif url.path == "/drip":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            sent = 0
            try:
                for _ in range(1000):
                    # The pause between bytes doubles as the check for a client that left.
                    readable, _, _ = select.select([self.connection], [], [], 0.02)
                    if readable and not self.connection.recv(1):
                        break
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    sent += 1
            except OSError:
                pass
            Handler.written.append(sent)
        else:
            self._reply(404, b"not here")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients hanging up early (size cap, timeouts) is what these tests do


@pytest.fixture(scope="module")
def server():
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def guard(monkeypatch):
    """Every connection attempt is recorded; anything but 127.0.0.1 fails the test, and host
    names never reach a real resolver."""
    attempts: list = []

    def connect(sock, address):
        attempts.append(address)
        assert address[0] == "127.0.0.1", f"attempted connection to {address}"
        return REAL_CONNECT(sock, address)

    def getaddrinfo(host, *args, **kwargs):
        ipaddress.ip_address(host)  # only literal addresses may be looked up for real
        return REAL_GETADDRINFO(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(addresses, "allowlist", lambda: ["127.0.0.1"])
    Handler.seen = []
    Handler.written = []
    return attempts


def call(**config):
    return ACTION.run(Context(workspace_id=1, config=config))


def wait_for(condition, tries: int = 600) -> bool:
    """Poll a condition the server thread sets; a bound on polls, not a speed check."""
    for _ in range(tries):
        if condition():
            return True
        time.sleep(0.05)
    return False


def refused(url, guard, words="cannot call"):
    with pytest.raises(IntegrationError) as info:
        call(url=url)
    assert info.value.permanent
    assert words in info.value.message
    assert guard == [], "a refused address must never be connected to"
    return info.value.message


# ---------------------------------------------------------------- requests that work


def test_get_json_with_query_and_headers(server, guard):
    out = call(
        method="GET",
        url=f"{server}/json?a=1",
        query=[{"key": "q", "value": "hello world"}],
        headers=[{"key": "X-Test", "value": "yes"}],
    )
    assert out["status"] == 200
    assert out["json"]["query"] == {"a": ["1"], "q": ["hello world"]}
    assert out["json"]["x"] == "yes"
    assert out["json"]["host"] == server.removeprefix("http://")
    assert out["headers"]["content-type"] == "application/json"
    assert out["text"] is None
    assert guard and all(a[0] == "127.0.0.1" for a in guard)


def test_post_json_form_and_text_bodies(server):
    out = call(method="POST", url=f"{server}/json", body_type="json", body={"a": [1, 2]})
    assert json.loads(out["json"]["body"]) == {"a": [1, 2]}
    assert out["json"]["content_type"] == "application/json"
    out = call(method="POST", url=f"{server}/json", body_type="json", body='{"b": true}')
    assert json.loads(out["json"]["body"]) == {"b": True}
    out = call(
        method="PUT",
        url=f"{server}/json",
        body_type="form",
        body=[{"key": "name", "value": "Ada & co"}],
    )
    assert out["json"]["body"] == "name=Ada+%26+co"
    out = call(method="PATCH", url=f"{server}/json", body_type="text", body="plain")
    assert out["json"]["body"] == "plain"
    assert out["json"]["method"] == "PATCH"


def test_text_response(server):
    out = call(url=f"{server}/text")
    assert out == {
        "status": 200,
        "headers": out["headers"],
        "json": None,
        "text": "héllo",
    }


def test_redirect_within_allowed_hosts_is_followed(server):
    out = call(url=f"{server}/redirect?to=/json")
    assert out["json"]["method"] == "GET"
    out = call(
        method="POST",
        url=f"{server}/redirect?to=/json&code=307",
        body_type="text",
        body="keep",
    )
    assert (out["json"]["method"], out["json"]["body"]) == ("POST", "keep")
    out = call(
        method="POST", url=f"{server}/redirect?to=/json&code=303", body_type="text", body="x"
    )
    assert (out["json"]["method"], out["json"]["body"]) == ("GET", "")


def test_cross_host_redirect_drops_credentials(server, monkeypatch):
    monkeypatch.setattr(addresses, "allowlist", lambda: ["127.0.0.1", "other.test"])
    monkeypatch.setattr(addresses, "resolve", lambda host, port: ["127.0.0.1"])
    port = server.rsplit(":", 1)[1]
    out = call(
        url=f"{server}/redirect?to=http://other.test:{port}/json",
        headers=[{"key": "Authorization", "value": "Bearer secret"}],
    )
    assert out["json"]["host"] == f"other.test:{port}"
    assert out["json"]["auth"] is None


def test_too_many_redirects(server):
    with pytest.raises(IntegrationError, match="redirected more than 5 times") as info:
        call(url=f"{server}/loop")
    assert info.value.permanent
    assert len(Handler.seen) == 6


# ---------------------------------------------------------------- errors


def test_4xx_is_permanent_with_excerpt(server):
    with pytest.raises(IntegrationError) as info:
        call(url=f"{server}/status/404")
    assert info.value.permanent and not info.value.reauth
    assert "HTTP 404" in info.value.message
    assert "something went wrong token=***" in info.value.message


def test_401_is_permanent_not_reauth(server):
    with pytest.raises(IntegrationError) as info:
        call(url=f"{server}/status/401")
    assert info.value.permanent and not info.value.reauth


@pytest.mark.parametrize("status", [429, 503])
def test_429_and_5xx_retry_after(server, status):
    with pytest.raises(IntegrationError) as info:
        call(url=f"{server}/status/{status}")
    assert info.value.retryable
    assert info.value.retry_after == 7


def test_500_is_retryable(server):
    with pytest.raises(IntegrationError) as info:
        call(url=f"{server}/status/500")
    assert info.value.retryable


def test_response_size_cap(server, monkeypatch):
    monkeypatch.setattr(transport, "MAX_RESPONSE_BYTES", 1024 * 1024)
    with pytest.raises(IntegrationError, match="larger than 1 MB"):
        call(url=f"{server}/big?size={2 * 1024 * 1024}")
    Handler.written = []
    with pytest.raises(IntegrationError, match="larger than 1 MB"):
        call(url=f"{server}/big?size={50 * 1024 * 1024}&nolength=1")
    # The client hung up near the cap: the server wrote the cap plus what the sockets'
    # buffers held, not the 50 MB it meant to.
    assert wait_for(lambda: Handler.written)
    assert Handler.written[0] < 20 * 1024 * 1024
    assert call(url=f"{server}/big?size=1000")["text"] == "x" * 1000


def test_default_response_cap_is_5_mb(server):
    assert transport.MAX_RESPONSE_BYTES == 5 * 1024 * 1024
    with pytest.raises(IntegrationError, match="larger than 5 MB"):
        call(url=f"{server}/big?size={6 * 1024 * 1024}&nolength=1")


def test_timeout_on_slow_server(server, monkeypatch):
    monkeypatch.setattr(transport, "TOTAL_TIMEOUT", 0.5)
    with pytest.raises(IntegrationError, match=r"did not finish answering in 0\.5 s") as info:
        call(url=f"{server}/slow?s=3")
    assert info.value.retryable


def test_total_timeout_on_dripping_server(server, monkeypatch):
    monkeypatch.setattr(transport, "TOTAL_TIMEOUT", 0.5)
    with pytest.raises(IntegrationError, match=r"did not finish answering in 0\.5 s"):
        call(url=f"{server}/drip")
    # The server saw the client leave part way through the 1,000 bytes it meant to drip.
    assert wait_for(lambda: Handler.written)
    assert 0 < Handler.written[0] < 1000


def test_request_body_cap(server, guard):
    with pytest.raises(IntegrationError, match="larger than 1 MB"):
        call(method="POST", url=f"{server}/json", body_type="text", body="x" * (1024 * 1024 + 1))
    assert guard == []


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ({"method": "TRACE", "url": "http://127.0.0.1/"}, "not a method"),
        ({"url": "http://127.0.0.1/", "headers": [{"key": "Host", "value": "x"}]}, "automatic"),
        ({"url": "http://127.0.0.1/", "headers": [{"key": "X", "value": "a\r\nB: c"}]}, "cannot"),
        ({"url": "http://127.0.0.1/", "body_type": "json", "body": "{nope"}, "not valid JSON"),
        ({"url": "http://127.0.0.1/", "body_type": "xml", "body": "<a/>"}, "not a body type"),
    ],
)
def test_bad_settings_are_permanent(config, words, guard):
    with pytest.raises(IntegrationError) as info:
        call(**config)
    assert info.value.permanent
    assert words in info.value.message
    assert guard == []


# ---------------------------------------------------------------- SSRF refusals


def test_loopback_refused_unless_allow_listed(server, guard, monkeypatch):
    monkeypatch.setattr(addresses, "allowlist", lambda: [])
    message = refused(f"{server}/json", guard)
    assert "loopback" in message and "An admin can allow it" in message


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://100.100.100.200/",
        "http://100.64.0.1/",
        "http://[::1]/",
        "http://[::1]:8080/",
        "http://0.0.0.0/",
        "http://[::]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://[::ffff:10.0.0.1]/",
        "http://[64:ff9b::7f00:1]/",
        "http://[2002:7f00:1::]/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://224.0.0.1/",
        "http://255.255.255.255/",
        "http://240.0.0.1/",
        "http://198.18.0.1/",
        "http://192.0.0.192/",
        "http://127.0.0.2/",
    ],
)
def test_private_and_special_addresses_refused(url, guard):
    refused(url, guard)


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/",
        "http://0x7f000001/",
        "http://0177.0.0.1/",
        "http://0x7f.0.0.1/",
        "http://127.1/",
        "http://017700000001/",
        "http://0177.1:80/",
    ],
)
def test_unusual_ip_spellings_refused(url, guard):
    refused(url, guard, words="unusual way of writing an IP address")


def test_metadata_refused_even_when_allow_listed(guard, monkeypatch):
    monkeypatch.setattr(addresses, "allowlist", lambda: ["169.254.0.0/16", "0.0.0.0/0"])
    message = refused("http://169.254.169.254/", guard)
    assert "metadata" in message and "admin" not in message
    refused("http://metadata.google.internal/computeMetadata/v1/", guard, words="metadata")


def test_hostname_resolving_to_loopback_refused(guard, monkeypatch):
    monkeypatch.setattr(addresses, "allowlist", lambda: [])
    monkeypatch.setattr(addresses, "resolve", lambda host, port: ["127.0.0.1"])
    message = refused("http://innocent.test/", guard)
    assert "“innocent.test” (127.0.0.1)" in message


def test_any_bad_record_refuses_the_host(guard, monkeypatch):
    monkeypatch.setattr(addresses, "resolve", lambda host, port: ["93.184.216.34", "10.1.1.1"])
    refused("http://mixed.test/", guard)


def test_unresolvable_host_is_retryable(guard, monkeypatch):
    def fail(host, port):
        raise socket.gaierror("no such host")

    monkeypatch.setattr(addresses, "resolve", fail)
    with pytest.raises(IntegrationError, match="Could not find") as info:
        call(url="http://nowhere.test/")
    assert info.value.retryable
    assert guard == []


def test_redirect_to_refused_address_is_not_followed(server, guard):
    for to in (
        "http://169.254.169.254/latest",
        "http://10.0.0.1/",
        "http://[::1]/",
        "file:///etc/passwd",
    ):
        with pytest.raises(IntegrationError, match="redirected to a refused address") as info:
            call(url=f"{server}/redirect?to={to}")
        assert info.value.permanent
    assert {a[0] for a in guard} == {"127.0.0.1"}


def test_dns_rebinding_cannot_switch_the_address(server, guard, monkeypatch):
    """The name is resolved once, checked, and the connection goes to that address even if a
    second lookup would answer differently."""
    answers = iter([["127.0.0.1"], ["10.0.0.1"], ["10.0.0.1"]])
    monkeypatch.setattr(addresses, "allowlist", lambda: ["127.0.0.1"])
    monkeypatch.setattr(addresses, "resolve", lambda host, port: next(answers))
    port = server.rsplit(":", 1)[1]
    out = call(url=f"http://rebind.test:{port}/json")
    assert out["json"]["host"] == f"rebind.test:{port}"
    assert [a[0] for a in guard] == ["127.0.0.1"]


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://example.com/", "Only http:// and https://"),
        ("file:///etc/passwd", "Only http:// and https://"),
        ("gopher://127.0.0.1:6379/_INFO", "Only http:// and https://"),
        ("http://user:pass@127.0.0.1/", "credentials"),
        ("http://user@127.0.0.1/", "credentials"),
        ("http:///nohost", "no host"),
        ("http://127.0.0.1:99999/", "invalid port"),
        ("", "Enter the web address"),
    ],
)
def test_malformed_urls_refused(url, words, guard):
    refused(url, guard, words=words)


def test_allow_listed_network_and_host_names(monkeypatch):
    monkeypatch.setattr(addresses, "resolve", lambda host, port: ["10.2.3.4"])
    monkeypatch.setattr(addresses, "allowlist", lambda: ["10.0.0.0/8"])
    assert check_url("http://intranet.test/").ip == "10.2.3.4"
    monkeypatch.setattr(addresses, "allowlist", lambda: ["*.corp.test"])
    assert check_url("https://wiki.corp.test/").ip == "10.2.3.4"
    with pytest.raises(IntegrationError):
        check_url("https://wiki.other.test/")


def test_public_addresses_pass_the_check_without_connecting(guard, monkeypatch):
    monkeypatch.setattr(addresses, "resolve", lambda host, port: ["93.184.216.34"])
    target = check_url("https://example.test/path")
    assert (target.host, target.port, target.ip) == ("example.test", 443, "93.184.216.34")
    assert check_url("http://[2606:2800:220:1:248:1893:25c8:1946]/").ip.startswith("2606:")
    assert guard == []


def test_refusal_reasons():
    assert refusal(ipaddress.ip_address("8.8.8.8")) is None
    assert "loopback" in refusal(ipaddress.ip_address("::ffff:127.0.0.1"))
    assert "carrier-grade" in refusal(ipaddress.ip_address("100.64.1.1"))
    assert "metadata" in refusal(ipaddress.ip_address("169.254.169.254"))


def test_settings_allowlist_reads_django_lazily():
    from django.conf import settings

    if not settings.configured:
        assert SETTINGS_ALLOWLIST() == []


def test_pinned_tls_connection_keeps_the_host_name_for_sni():
    session = transport.pinned_session("127.0.0.1")
    adapter = session.get_adapter("https://example.test/")
    pool = adapter.poolmanager.connection_from_url("https://example.test/")
    conn = pool._new_conn()
    assert conn.host == "example.test"
    session.close()


def test_https_is_pinned_and_still_verifies_the_host_name(tmp_path, monkeypatch, guard):
    """TLS goes to the checked address while SNI and certificate checks use the name."""
    import ssl
    import subprocess

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(  # noqa: S603
        [  # noqa: S607
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=pinned.test",
            "-addext",
            "subjectAltName=DNS:pinned.test",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    port = httpd.server_address[1]
    real_session = transport.pinned_session

    def trusting(ip, *args, **kwargs):
        session = real_session(ip, *args, **kwargs)
        session.verify = str(cert)
        return session

    monkeypatch.setattr(transport, "pinned_session", trusting)
    monkeypatch.setattr(addresses, "resolve", lambda host, port: ["127.0.0.1"])
    monkeypatch.setattr(addresses, "allowlist", lambda: ["127.0.0.1"])
    try:
        out = call(url=f"https://pinned.test:{port}/json")
        assert out["json"]["host"] == f"pinned.test:{port}"
        # The same server under another name fails the certificate check: the name is used.
        with pytest.raises(IntegrationError):
            call(url=f"https://other.test:{port}/json")
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert {a[0] for a in guard} == {"127.0.0.1"}
