"""The HTTP step's bounds over the whole exchange, checked by what a server sees: a server
that sends its headers one byte at a time is cut off at the step's time limit, and cloud
metadata addresses stay refused in every IPv6 spelling, whatever an admin allows."""

from __future__ import annotations

import ipaddress
import select
import socket
import ssl
import subprocess
import threading

import pytest

from integrations.base import Context, IntegrationError
from integrations.builtin.http_request import ACTION, addresses, transport
from integrations.builtin.http_request.addresses import check_url

REAL_CONNECT = socket.socket.connect
# Far more header bytes than a client could take in before its deadline, so a server that
# finishes sending them shows the client waited for it.
HEADER_BYTES = 400


@pytest.fixture(autouse=True)
def guard(monkeypatch):
    """Only 127.0.0.1 may be connected to; every attempt is recorded."""
    attempts: list = []

    def connect(sock, address):
        attempts.append(address)
        assert address[0] == "127.0.0.1", f"attempted connection to {address}"
        return REAL_CONNECT(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(addresses, "allowlist", lambda: ["127.0.0.1"])
    return attempts


def call(**config):
    return ACTION.run(Context(workspace_id=1, config=config))


class DribblingServer:
    """Answers one request with a status line, then header bytes one at a time. Between
    bytes it looks whether the client has hung up, and records how far it got."""

    def __init__(self, tls_context: ssl.SSLContext | None = None) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.tls = tls_context
        self.sent = 0
        self.client_left = False
        self.finished = False
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self.listener.accept()
            if self.tls:
                conn = self.tls.wrap_socket(conn, server_side=True)
            conn.settimeout(10)
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                request += chunk
            conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            for _ in range(HEADER_BYTES):
                # The pause between bytes doubles as the check for a client that hung up.
                readable, _, _ = select.select([conn], [], [], 0.02)
                if readable and not conn.recv(1):
                    self.client_left = True
                    break
                conn.sendall(b"a")
                self.sent += 1
            else:
                conn.sendall(b"\r\nContent-Length: 2\r\n\r\nok")
                self.finished = True
            conn.close()
        except (OSError, ssl.SSLError):
            self.client_left = True
        finally:
            self.done.set()

    def close(self) -> None:
        self.listener.close()


def test_headers_sent_slowly_are_cut_off_at_the_time_limit(monkeypatch):
    monkeypatch.setattr(transport, "TOTAL_TIMEOUT", 0.3)
    server = DribblingServer()
    try:
        with pytest.raises(IntegrationError, match=r"did not finish answering in 0\.3 s") as info:
            call(url=f"http://127.0.0.1:{server.port}/")
        assert info.value.retryable
        assert server.done.wait(30), "the server never finished its answer"
        assert server.client_left and not server.finished
        assert server.sent < HEADER_BYTES
    finally:
        server.close()


def test_tls_headers_sent_slowly_are_cut_off_at_the_time_limit(tmp_path, monkeypatch):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(  # noqa: S603
        [  # noqa: S607
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=slow.test", "-addext", "subjectAltName=DNS:slow.test",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = DribblingServer(context)
    real_session = transport.pinned_session

    def trusting(ip, *args, **kwargs):
        session = real_session(ip, *args, **kwargs)
        session.verify = str(cert)
        return session

    monkeypatch.setattr(transport, "pinned_session", trusting)
    monkeypatch.setattr(addresses, "resolve", lambda host, port: ["127.0.0.1"])
    monkeypatch.setattr(transport, "TOTAL_TIMEOUT", 0.5)
    try:
        with pytest.raises(IntegrationError, match=r"did not finish answering in 0\.5 s"):
            call(url=f"https://slow.test:{server.port}/")
        assert server.done.wait(30), "the server never finished its answer"
        assert server.client_left and not server.finished
    finally:
        server.close()


# ---------------------------------------------------------------- metadata in IPv6 clothing

METADATA_SPELLINGS = [
    "::ffff:169.254.169.254",  # IPv4-mapped
    "::ffff:169.254.170.2",
    "::ffff:100.100.100.200",
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
    "::a9fe:a9fe",  # IPv4-compatible (deprecated, still parsed)
    "fd00:ec2::254",
]


@pytest.mark.parametrize("address", METADATA_SPELLINGS)
def test_metadata_refused_in_ipv6_spellings_even_when_everything_is_allowed(
    address, guard, monkeypatch
):
    monkeypatch.setattr(
        addresses, "allowlist", lambda: ["::/0", "0.0.0.0/0", "::ffff:0:0/96", "*.test"]
    )
    with pytest.raises(IntegrationError) as info:
        call(url=f"http://[{address}]/latest/meta-data/")
    assert info.value.permanent
    assert "metadata" in info.value.message and "admin" not in info.value.message
    # An allowed host name that resolves to it is refused too.
    monkeypatch.setattr(addresses, "resolve", lambda host, port: [address])
    with pytest.raises(IntegrationError, match="metadata"):
        check_url("http://innocent.test/")
    assert guard == [], "a metadata address must never be connected to"


def test_an_allowed_mapped_private_address_is_still_allowed(monkeypatch):
    monkeypatch.setattr(addresses, "allowlist", lambda: ["::ffff:10.0.0.0/104"])
    mapped = ipaddress.ip_address("::ffff:10.1.2.3")
    assert check_url("http://[::ffff:10.1.2.3]/").ip == str(mapped)
