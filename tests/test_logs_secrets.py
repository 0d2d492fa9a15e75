"""No secret in any log `make run` writes: the Procfile's web, worker and scheduler run as
subprocesses with their real logging options, everything they print is captured, and webhook
calls (accepted, 400, 409, 413) and an OAuth callback carrying a code go through them."""

from __future__ import annotations

import http.client
import json
import logging
import time
from urllib.parse import urlsplit

import pytest

from hub.engine.models import Run
from hub.recipes.services import set_paused
from hub.system.logs import scrub_path
from tests.conftest import ROOT, make_recipe, slack_connection, slack_step
from tests.fakes.kit import consent
from tests.fakes.slack import FakeSlack
from tests.procfile import ProcfileProcess
from tests.test_connections_support import point_at, start


@pytest.fixture
def fake(settings):
    with FakeSlack() as fake:
        point_at(settings, fake)
        fake.general = fake.add_channel("general")
        yield fake


@pytest.fixture
def processes(transactional_db, celery_queue, fake, settings, tmp_path):
    env = {
        **fake.settings(),
        "CELERY_QUEUE": celery_queue,
        "HUB_BASE_URL": settings.HUB_BASE_URL,  # the redirect URL the authorize step sent
    }
    logs = ROOT / "var" / f"logs-{celery_queue}"
    started = []
    try:
        web = ProcfileProcess("web", logs / "web.log", env=env).start()
        started.append(web)
        worker = ProcfileProcess("worker", logs / "worker.log", env=env).start()
        started.append(worker)
        scheduler = ProcfileProcess(
            "scheduler", logs / "scheduler.log", env=env,
            replace={"var/celerybeat-schedule": str(tmp_path / "beat-schedule")},
        ).start()  # fmt: skip
        started.append(scheduler)
        web.wait_listening()
        worker.wait_for("ready.")
        scheduler.wait_for("beat: Starting")
        yield {"web": web, "worker": worker, "scheduler": scheduler}
    finally:
        for process in started:
            process.stop()


def call(web, method: str, path: str, body: bytes | None = None, headers=None, chunked=False):
    conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=60)
    headers = {"Content-Type": "application/json", **(headers or {})}
    if chunked:
        conn.request(method, path, body=iter([body]), headers=headers, encode_chunked=True)
    else:
        conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def wait_finished(run_id: int) -> Run:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run = Run.objects.get(id=run_id)
        if run.finished:
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not finish: {run.status}")


def test_no_secret_in_any_log_of_the_procfile_processes(
    processes, workspace, admin_user, admin_client, fake
):
    web = processes["web"]
    slack_connection(workspace, fake)
    hook = make_recipe(
        workspace, [slack_step(fake.general)], trigger={"app": "webhook", "event": "catch"}
    )
    paused = make_recipe(
        workspace, [slack_step(fake.general)], trigger={"app": "webhook", "event": "catch"},
        name="Paused",
    )  # fmt: skip
    set_paused(paused, True)
    path = f"/hooks/{hook.public_id}/{hook.webhook_secret}"

    accepted = call(web, "POST", path, b'{"name": "ada"}')
    assert accepted.status == 202
    by_header = call(
        web, "POST", f"/hooks/{hook.public_id}", b'{"name": "bo"}',
        headers={"X-Hook-Secret": hook.webhook_secret},
    )  # fmt: skip
    assert by_header.status == 202
    assert call(web, "POST", path, b'{"name": "cy"}', chunked=True).status == 202
    assert call(web, "POST", path, b"{not json").status == 400
    assert call(web, "POST", path, b'{"x": NaN}').status == 400
    assert call(web, "POST", path, b"[" + b"1," * 600_000 + b"1]").status == 413
    assert call(web, "POST", path, b"[" + b"1," * 600_000 + b"1]", chunked=True).status == 413
    paused_path = f"/hooks/{paused.public_id}/{paused.webhook_secret}"
    assert call(web, "POST", paused_path, b"{}").status == 409
    assert call(web, "GET", path).status == 405

    # Connect Slack: the app sends the browser back to the callback with a one-time code.
    session = admin_client.cookies["sessionid"].value
    back = consent(start(admin_client, "slack"))
    callback = urlsplit(back)
    target = f"{callback.path}?{callback.query}"
    cookie = {"Cookie": f"sessionid={session}"}
    assert call(web, "GET", target, headers=cookie).status == 302
    # The same link again (the code is spent: a 400 page), and a page that names it as referer.
    assert call(web, "GET", target, headers=cookie).status == 400
    referer = {**cookie, "Referer": f"{web.base_url}{target}"}
    assert call(web, "GET", "/connections/", headers=referer).status == 200

    runs = list(Run.objects.filter(recipe=hook).values_list("id", flat=True))
    assert len(runs) == 3
    for run_id in runs:
        assert wait_finished(run_id).status == "succeeded"
    assert len(fake.messages[fake.general]) == 3

    secrets = {hook.webhook_secret, paused.webhook_secret, session, fake.client_secret}
    secrets |= set(fake.tokens) | set(fake.grants)
    assert len(fake.grants) == 1 and len(fake.tokens) >= 2
    for process in processes.values():
        process.stop()
    logs = {name: process.log() for name, process in processes.items()}
    for name, text in logs.items():
        for secret in secrets:
            assert secret not in text, f"a secret is in the {name} log:\n{text[-3000:]}"
    # The calls were logged, with the secret and the code replaced.
    assert f"/hooks/{hook.public_id}/*** " in logs["web"]
    assert f"/hooks/{paused.public_id}/***" in logs["web"]
    assert "Conflict: /hooks/" in logs["web"] and "Bad Request: /hooks/" in logs["web"]
    assert f"{callback.path}?*** " in logs["web"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("POST /hooks/abc/s3cr3t HTTP/1.1", "POST /hooks/abc/*** HTTP/1.1"),
        ("Bad Request: /hooks/abc/s3cr3t", "Bad Request: /hooks/abc/***"),
        ('"POST /hooks/abc/s3cr3t?x=1 HTTP/1.1"', '"POST /hooks/abc/***?x=1 HTTP/1.1"'),
        ("POST /hooks/abc%2Fs3cr3t HTTP/1.1", "POST /hooks/abc/*** HTTP/1.1"),
        ("POST /%68ooks/abc/s3cr3t HTTP/1.1", "POST /hooks/abc/*** HTTP/1.1"),
        ("POST /hooks/abc HTTP/1.1", "POST /hooks/abc HTTP/1.1"),
        (
            "GET /connections/slack/callback/?code=c0de&state=st4te HTTP/1.1",
            "GET /connections/slack/callback/?*** HTTP/1.1",
        ),
        (
            '"http://h/connections/gmail/callback/?state=s&code=c"',
            '"http://h/connections/gmail/callback/?***"',
        ),
        ("GET /invites/t0ken/ HTTP/1.1", "GET /invites/***/ HTTP/1.1"),
        ("POST /members/invites/3/revoke/ HTTP/1.1", "POST /members/invites/3/revoke/ HTTP/1.1"),
        (
            "GET /accounts/password/reset/key/1-k3y/ HTTP/1.1",
            "GET /accounts/password/reset/key/***/ HTTP/1.1",
        ),
        ("GET /runs/?page=2 HTTP/1.1", "GET /runs/?page=2 HTTP/1.1"),
        ("GET /x?token=abc HTTP/1.1", "GET /x?token=*** HTTP/1.1"),
    ],
)
def test_scrub_path_replaces_secrets_in_request_lines(text, expected):
    assert scrub_path(text) == expected


def test_django_request_log_lines_are_scrubbed(client, workspace, kit, caplog):
    hook = make_recipe(
        workspace, [{"key": "a", "app": "kit", "action": "echo"}],
        trigger={"app": "webhook", "event": "catch"},
    )  # fmt: skip
    path = f"/hooks/{hook.public_id}/{hook.webhook_secret}"
    with caplog.at_level(logging.INFO, logger="django.request"):
        assert client.post(path, "{bad", content_type="application/json").status_code == 400
        set_paused(hook, True)
        assert client.post(path, "{}", content_type="application/json").status_code == 409
    lines = [record.getMessage() for record in caplog.records]
    assert f"Bad Request: /hooks/{hook.public_id}/***" in lines
    assert f"Conflict: /hooks/{hook.public_id}/***" in lines
    assert not any(hook.webhook_secret in json.dumps(line) for line in lines)
