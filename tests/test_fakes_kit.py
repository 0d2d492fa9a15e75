from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.fakes.kit import FakeApp, Request, Response, pkce_challenge, route


class Echo(FakeApp):
    name = "echo"

    @route("GET", "/things/{thing_id}", name="things.get")
    def get_thing(self, request: Request) -> Response:
        return Response(200, {"id": request.params["thing_id"], "q": request.arg("q")})

    @route("GET", "/things/special", name="things.special")
    def special(self, request: Request) -> Response:
        return Response(200, {"special": True})

    @route("POST", "/things", name="things.create")
    def create(self, request: Request) -> Response:
        return Response(201, {"got": request.body})


@pytest.fixture
def echo():
    with Echo() as app:
        yield app


def test_routes_params_and_literal_paths_win(echo):
    assert requests.get(f"{echo.origin}/things/42?q=x", timeout=5).json() == {"id": "42", "q": "x"}
    assert requests.get(f"{echo.origin}/things/special", timeout=5).json() == {"special": True}
    assert requests.get(f"{echo.origin}/nothing", timeout=5).status_code == 404
    assert requests.delete(f"{echo.origin}/things/1", timeout=5).status_code == 404


def test_bodies_are_parsed_and_logged(echo):
    requests.post(
        f"{echo.origin}/things", json={"a": 1}, timeout=5, headers={"Authorization": "Bearer t0k"}
    )
    requests.post(f"{echo.origin}/things", data={"b": "2"}, timeout=5)
    first, second = echo.calls("things.create")
    assert (first.body, first.token, first.status) == ({"a": 1}, "t0k", 201)
    assert (second.body, second.token) == ({"b": "2"}, None)
    assert first.headers["authorization"] == "Bearer t0k"
    assert echo.calls("/things") == [first, second]


def test_fail_next_times_then_recovers(echo):
    echo.fail_next("things.get", status=503, body={"down": True}, headers={"X-A": "1"}, times=2)
    answers = [requests.get(f"{echo.origin}/things/1", timeout=5) for _ in range(3)]
    assert [a.status_code for a in answers] == [503, 503, 200]
    assert answers[0].json() == {"down": True} and answers[0].headers["X-A"] == "1"
    assert [c.status for c in echo.calls("things.get")] == [503, 503, 200]


def test_fault_on_one_route_leaves_others_alone(echo):
    echo.fail_next("things.create", status=500)
    assert requests.get(f"{echo.origin}/things/1", timeout=5).status_code == 200
    assert requests.post(f"{echo.origin}/things", json={}, timeout=5).status_code == 500


def test_rate_limit_sends_retry_after(echo):
    echo.rate_limit("*", retry_after=3, times=1)
    limited = requests.get(f"{echo.origin}/things/1", timeout=5)
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "3")
    assert requests.get(f"{echo.origin}/things/1", timeout=5).status_code == 200


def test_delay_slows_one_route(echo, monkeypatch):
    from tests.fakes import kit

    pauses = []

    class Clock:
        """The fake's clock, noting each pause it takes instead of timing it from outside."""

        def __getattr__(self, name):
            return getattr(time, name)

        def sleep(self, seconds):
            pauses.append(seconds)
            time.sleep(seconds)

    monkeypatch.setattr(kit, "time", Clock())
    echo.delay("things.get", 0.3, times=1)
    assert requests.get(f"{echo.origin}/things/1", timeout=5).status_code == 200
    assert requests.get(f"{echo.origin}/things/1", timeout=5).status_code == 200
    assert pauses == [0.3]


def test_per_token_rate_limiter(echo):
    echo.limit_rate(2, 60)

    def get(token: str) -> int:
        headers = {"Authorization": f"Bearer {token}"}
        return requests.get(f"{echo.origin}/things/1", headers=headers, timeout=5).status_code

    assert [get("a"), get("a"), get("a"), get("b")] == [200, 200, 429, 200]
    echo.clear_faults()
    assert get("a") == 200


def test_concurrent_requests_are_all_logged(echo):
    def hit() -> None:
        for _ in range(10):
            requests.get(f"{echo.origin}/things/1", timeout=5)

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(echo.calls("things.get")) == 80


def test_stop_releases_the_port():
    app = Echo().start()
    port = app.port
    app.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/things/1", timeout=2)


def test_pkce_s256_matches_an_independent_digest():
    # Expected value from: printf %s "$v" | openssl dgst -sha256 -binary | base64url, unpadded.
    verifier = "dBjftJeZ4CVP-mJ92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert pkce_challenge(verifier) == "ngF5GsXcbwljx6u133FFr3Xht9xooA_DuaX_3QwODtc"
    assert pkce_challenge(verifier, "plain") == verifier


SERVED = ("slack", "notion", "gmail", "clickup")


def test_serve_prints_urls_and_answers():
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen(  # noqa: S603 — a fixed argv, no outside input
        [sys.executable, "-m", "tests.fakes.serve", *SERVED, "--port-base", "0"],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        lines = iter(proc.stdout.readline, "ready\n")
        urls = dict(line.strip().split("=", 1) for line in lines)
        assert {f"{app.upper()}_API_URL" for app in SERVED} <= set(urls)
        reply = requests.post(f"{urls['SLACK_API_URL']}auth.test", timeout=5).json()
        assert reply == {"ok": False, "error": "not_authed"}
    finally:
        proc.terminate()
        proc.wait(timeout=5)
