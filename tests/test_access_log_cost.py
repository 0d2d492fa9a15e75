"""The web's access log: secrets replaced in what it writes, and only what it writes is
scrubbed (scrubbing every header and environ entry cost more CPU than the webhook it logged;
docs/engine.md, "Scale")."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

from gunicorn.config import Config
from gunicorn.glogging import SafeAtoms

from hub.system import logs
from hub.system.logs import GunicornLogger


def _logger(access_log_format: str | None = None) -> GunicornLogger:
    cfg = Config()
    if access_log_format:
        cfg.set("access_log_format", access_log_format)
    return GunicornLogger(cfg)


def _atoms(logger: GunicornLogger) -> dict:
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": "/hooks/abc/s3cr3t",
        "PATH_INFO": "/hooks/abc/s3cr3t",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": "http://h/hooks/abc/s3cr3t",
        "HTTP_X_HOOK_SECRET": "s3cr3t",
        **{f"HTTP_X_EXTRA_{i}": f"/hooks/x/v{i}" for i in range(40)},
    }
    headers = [("X-Hook-Secret", "s3cr3t"), ("Content-Type", "application/json")]
    req = SimpleNamespace(headers=headers)
    resp = SimpleNamespace(status="202 Accepted", headers=[], sent=12)
    return logger.atoms(resp, req, environ, datetime.timedelta(milliseconds=3))


def test_the_default_format_writes_no_secret_and_scrubs_only_its_atoms(monkeypatch):
    calls = []
    real = logs.scrub_path
    monkeypatch.setattr(logs, "scrub_path", lambda text: calls.append(text) or real(text))
    logger = _logger()
    atoms = _atoms(logger)
    line = logger.cfg.access_log_format % SafeAtoms(atoms)
    assert "s3cr3t" not in line
    assert "POST /hooks/abc/*** HTTP/1.1" in line and '"http://h/hooks/abc/***"' in line
    # The default format names 9 atoms; the 40-odd headers and environ entries are not
    # written, so they are not scrubbed.
    assert len(calls) <= 9


def test_a_format_naming_a_secret_header_writes_the_mark():
    logger = _logger("%(r)s %({X-Hook-Secret}i)s %({http_x_hook_secret}e)s %({Content-Type}i)s")
    line = logger.cfg.access_log_format % SafeAtoms(_atoms(logger))
    assert line == "POST /hooks/abc/*** HTTP/1.1 *** *** application/json"
