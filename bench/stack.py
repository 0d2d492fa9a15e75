"""What every benchmark under bench/ shares: the Procfile's processes started as `make run`
starts them (gunicorn, Celery workers, beat), the Slack fake in a child process, CPU and
memory of each process group read from /proc, and the machine's figures (cores, load, a
calibration workload) printed with every result so figures from different sittings compare.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402
from bench.common import calibration_ms, cpu_seconds  # noqa: E402 (used by the benches)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB."""
    total = 0
    pids = [pid]
    seen = set()
    while pids:
        p = pids.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
            pids.extend(int(c) for c in children)
        except OSError:
            continue
    return total / 1024


def serve_fake() -> None:
    """Child mode: the Slack fake with one channel; prints its settings as JSON."""
    from tests.fakes.slack import FakeSlack

    fake = FakeSlack(port=0).start()
    channel = fake.add_channel("bench")
    print(
        json.dumps({"settings": fake.settings(), "token": fake.issue_token(), "channel": channel}),
        flush=True,
    )
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    done.wait()
    fake.stop()


def ensure_database() -> None:
    """Create the scratch PostgreSQL database named in DATABASE_URL when it does not exist
    (nothing to do on the embedded SQLite)."""
    if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        common.ensure_database()


def setup_django():
    import django

    ensure_database()
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            todo.extend(int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split())
        except OSError:
            continue
    return out


def postgres_pids(dbname: str) -> list[int]:
    """Backends connected to the bench's database (not other users of the same server)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if title.startswith("postgres:") and f" {dbname} " in title:
                pids.append(int(entry.name))
    return pids


def server_pids(program: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == program:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, to show what else was running."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def procfile_argv(name: str, port: int, options: dict[str, str] | None = None) -> list[str]:
    """The Procfile's command line for ``name`` with this virtualenv's executables and
    ``options`` (``--concurrency``: ``16``, …) replacing or adding to its own."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        key, _, command = line.partition(":")
        if key.strip() == name:
            break
    else:
        raise KeyError(name)
    words = command.replace("$PORT", str(port)).split()
    words[0] = str(Path(sys.executable).parent / words[0].rsplit("/", 1)[-1])
    for option, value in (options or {}).items():
        if option in words:
            words[words.index(option) + 1] = value
        else:
            words += [option, value]
    return words


class Stack:
    """The Procfile's processes on this machine, pointed at the fake: gunicorn with
    ``web`` = (workers, threads), ``workers`` Celery worker processes of the given pool and
    concurrency, one beat. ``parts`` chooses which start (the intake bench starts the
    workers later, with ``start_workers``)."""

    def __init__(
        self,
        env: dict,
        workers: int,
        pool: str,
        concurrency: int,
        web: tuple[int, int],
        parts: tuple[str, ...] = ("web", "workers", "scheduler"),
        worker_options: dict[str, str] | None = None,
    ):
        # The Slack fake is not Slack: the hub's own limiter (1 post/s per channel, as Slack
        # allows) would make every bench a test of that limit. The limiter still runs.
        self.env = {"RATE_LIMIT_SLACK_CHAT_POSTMESSAGE": "1000000/second", **env}
        self.workers = workers
        self.pool = pool
        self.concurrency = concurrency
        self.web = web
        self.parts = parts
        self.worker_options = worker_options or {}
        self.port = free_port()
        self.procs: dict[str, subprocess.Popen] = {}
        var = Path(env.get("HUB_VAR_DIR") or ROOT / "var")
        self.logdir = var / "bench"
        self.logdir.mkdir(parents=True, exist_ok=True)

    def _start(self, name: str, argv: list[str]) -> None:
        log = (self.logdir / f"{name}.log").open("w")
        self.procs[name] = subprocess.Popen(  # noqa: S603  (our own command line)
            argv,
            cwd=ROOT,
            # Celery takes `--pool prefork` for "not given" and then uses worker_pool from
            # the settings (threads): set the setting too.
            env={**self.env, "CELERY_WORKER_POOL": self.pool, "PYTHONUNBUFFERED": "1"},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_workers(self) -> None:
        for i in range(self.workers):
            options = {
                "--pool": self.pool,
                "--concurrency": str(self.concurrency),
                "--hostname": f"bench{i}@%h",
                **self.worker_options,
            }
            self._start(f"worker{i}", procfile_argv("worker", self.port, options))

    def stop_workers(self, sig: int = signal.SIGTERM) -> None:
        for name in [n for n in self.procs if n.startswith("worker")]:
            self._stop(self.procs.pop(name), sig)

    def wait_workers_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        names = [n for n in self.procs if n.startswith("worker")]
        while time.monotonic() < deadline:
            if all("ready." in (self.logdir / f"{n}.log").read_text() for n in names):
                return
            time.sleep(0.2)
        raise RuntimeError(f"workers not ready in {timeout} s; see {self.logdir}")

    def start(self) -> Stack:
        web_workers, web_threads = self.web
        if "web" in self.parts:
            options = {"--workers": str(web_workers), "--threads": str(web_threads)}
            self._start("web", procfile_argv("web", self.port, options))
        if "workers" in self.parts:
            self.start_workers()
        if "scheduler" in self.parts:
            self._start("scheduler", procfile_argv("scheduler", self.port))
        if "web" in self.parts:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                    conn.request("GET", "/healthz")
                    conn.getresponse().read()
                    break
                except OSError:
                    time.sleep(0.3)
        if "workers" in self.parts:
            self.wait_workers_ready()
        return self

    def pids(self) -> dict[str, list[int]]:
        return {name: descendants(p.pid) for name, p in self.procs.items()}

    def rss(self) -> dict[str, float]:
        return {name: rss_mb(p.pid) for name, p in self.procs.items()}

    @staticmethod
    def _stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
        if process.poll() is None:
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def stop(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.procs.values():
            self._stop(p)


class CpuMeter:
    """CPU seconds per process group over a window: where the two cores went."""

    def __init__(self, stack: Stack, fake_pid: int, dbname: str):
        self.stack, self.fake_pid, self.dbname = stack, fake_pid, dbname

    def sample(self) -> dict[str, float]:
        groups = {name: sum(map(cpu_seconds, pids)) for name, pids in self.stack.pids().items()}
        groups["workers"] = sum(v for k, v in groups.items() if k.startswith("worker"))
        for k in [k for k in groups if k.startswith("worker") and k != "workers"]:
            groups.pop(k)
        groups["loadgen+bench"] = cpu_seconds(os.getpid())
        groups["slack fake"] = cpu_seconds(self.fake_pid)
        groups["postgres"] = sum(map(cpu_seconds, postgres_pids(self.dbname)))
        # The broker's server, when there is one (Redis here is shared with other users of
        # the machine, so its figure is an upper bound).
        groups["broker"] = sum(map(cpu_seconds, server_pids("redis-server")))
        busy, total = machine_busy()
        groups["_machine_busy"], groups["_machine_total"] = busy, total
        return groups

    @staticmethod
    def per_run(before: dict, after: dict, runs: int) -> dict[str, float]:
        """CPU milliseconds per completed run by group, and the machine's busy share."""
        out = {
            k: (after[k] - before[k]) * 1000 / max(1, runs) for k in after if not k.startswith("_")
        }
        busy = after["_machine_busy"] - before["_machine_busy"]
        total = after["_machine_total"] - before["_machine_total"]
        out["_machine_busy_pct"] = 100 * busy / max(1, total)
        return out


def machine_line() -> str:
    from django.conf import settings
    from django.db import connection

    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"cores: {os.cpu_count()}  database: {connection.vendor}  "
        f"broker: {settings.CELERY_BROKER_URL.split(':')[0]}  load average: {load}  "
        f"calibration (fixed pure-Python workload, best of 3): {calibration_ms():.1f} ms"
    )


def start_fake() -> tuple[subprocess.Popen, dict]:
    """The Slack fake in a child process (its CPU is counted apart); its settings are put
    into this process's environment before Django is set up."""
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, __file__, "--serve-fake"], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    fake = json.loads(proc.stdout.readline())
    os.environ.update(fake["settings"])
    return proc, fake


def bench_workspace(fake: dict):
    """The "Bench" workspace with a Slack connection to the fake."""
    from hub.accounts.models import Workspace
    from hub.connections.models import Connection

    workspace, _ = Workspace.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    Connection.objects.filter(workspace=workspace, label="Bench Slack").delete()
    conn = Connection(workspace=workspace, integration="slack", label="Bench Slack")
    conn.set_tokens(fake["token"], None, None)
    conn.save()
    return workspace


def webhook_recipe(workspace, fake: dict, name: str = "Bench webhook to Slack"):
    """webhook -> formatter -> slack.send_message, published; its runs deleted."""
    from hub.engine.models import Run
    from hub.recipes.services import import_recipe

    document = {
        "format": "toolstack.recipe/1",
        "name": name,
        "trigger": {"app": "webhook", "event": "catch"},
        "steps": [
            {
                "key": "fmt",
                "app": "builtin",
                "action": "formatter",
                "config": {"operation": "text_upper", "input": "{{ trigger.text }}"},
            },
            {
                "key": "post",
                "app": "slack",
                "action": "send_message",
                "connection": "Bench Slack",
                "config": {"channel": fake["channel"], "text": "{{ steps.fmt.output }}"},
            },
        ],
    }
    recipe, problems = import_recipe(workspace, document, publish=True)
    assert not problems, problems
    recipe.refresh_from_db()
    Run.objects.filter(workspace=workspace).delete()
    return recipe


if __name__ == "__main__" and "--serve-fake" in sys.argv:
    serve_fake()


def fake_texts(fake: dict) -> list[str]:
    """Every message text posted to the fake's bench channel, read back through its API."""
    from slack_sdk import WebClient

    client = WebClient(token=fake["token"], base_url=fake["settings"]["SLACK_API_URL"])
    texts, cursor = [], None
    while True:
        page = client.conversations_history(channel=fake["channel"], limit=1000, cursor=cursor)
        texts += [m["text"] for m in page["messages"]]
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return texts
