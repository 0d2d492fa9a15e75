"""The Procfile's processes (web, worker, scheduler) started as `make run` starts them, on the
test database, with everything they print captured to a file. No tests live here."""

from __future__ import annotations

import http.client
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT, database_url_for_subprocess

VENV_BIN = Path(sys.executable).parent


def procfile_commands() -> dict[str, str]:
    commands = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, command = line.split(":", 1)
            commands[name.strip()] = command.strip()
    return commands


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ProcfileProcess:
    """One Procfile entry, its command line as written (the virtualenv is this one's)."""

    def __init__(
        self,
        name: str,
        log_path: Path,
        *,
        env: dict | None = None,
        port: int | None = None,
        replace: dict[str, str] | None = None,
        cwd: Path | None = None,
    ):
        self.name = name
        self.log_path = log_path
        self.port = port or free_port()
        self.extra_env = env or {}
        self.replace = replace or {}
        self.cwd = cwd or ROOT
        self.process: subprocess.Popen | None = None

    def argv(self) -> list[str]:
        words = shlex.split(procfile_commands()[self.name].replace("$PORT", str(self.port)))
        if words[0].startswith(".venv/bin/"):
            words[0] = str(VENV_BIN / words[0].removeprefix(".venv/bin/"))
        return [self.replace.get(word, word) for word in words]

    def start(self) -> ProcfileProcess:
        env = {
            **os.environ,
            "DATABASE_URL": database_url_for_subprocess(),
            "PORT": str(self.port),
            "PYTHONUNBUFFERED": "1",
            # Started from another directory, `-A hub` must still find the project.
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            **self.extra_env,
        }
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603  (the Procfile's own command line)
            self.argv(),
            cwd=self.cwd,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_listening(self, timeout: float = 60) -> ProcfileProcess:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not listen in {timeout} s:\n{self.log()}")

    def wait_for(self, text: str, timeout: float = 60) -> ProcfileProcess:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            if text in self.log():
                return self
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} never printed {text!r} in {timeout} s:\n{self.log()}")

    def _check_alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited early:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_bytes().decode(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if getattr(self, "_log", None):
            self._log.close()


def send(web: ProcfileProcess, path: str, chunks: list[bytes] | None = None, body=None):
    """POST ``chunks`` with Transfer-Encoding: chunked, or ``body`` with a Content-Length, to
    the web process; returns the status and the JSON answer."""
    conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=60)
    headers = {"Content-Type": "application/json"}
    if chunks is not None:
        conn.request("POST", path, body=iter(chunks), headers=headers, encode_chunked=True)
    else:
        conn.request("POST", path, body=body, headers=headers)
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    return response.status, json.loads(payload)
