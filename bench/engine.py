"""Recipe engine benchmark: figures, not assertions.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hub_bench \
    CELERY_BROKER_URL=redis://127.0.0.1:6379/6 python bench/engine.py [--seconds 15]

1. Engine overhead per step: a run of 20 formatter steps executed in-process, minus the
   time the formatter itself takes, divided by the steps. Every step is recorded as usual.
2. End to end: webhook → formatter → slack.send_message against the Slack fake, with
   8 concurrent webhook senders, gunicorn serving the hub, and 1 then 2 Celery worker
   processes. Reports completed executions/s, p50/p99 from webhook accepted to last step
   done, and the resident memory of web + workers + scheduler.

The database it is pointed at is migrated and its "Bench" workspace's runs are deleted:
point it at a scratch database. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
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


def setup_django():
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


# ------------------------------------------------------------------ 1. overhead per step


def overhead(workspace) -> dict:
    from hub.engine.executor import execute
    from hub.engine.models import Run
    from hub.engine.runs import start_run
    from hub.recipes.services import import_recipe
    from integrations import registry
    from integrations.base import Context

    steps = 20
    document = {
        "format": "toolstack.recipe/1",
        "name": "Bench overhead",
        "trigger": {"app": "manual"},
        "steps": [
            {
                "key": f"s{i}",
                "app": "builtin",
                "action": "formatter",
                "config": {"operation": "text_upper", "input": "{{ trigger.text }} " + str(i)},
            }
            for i in range(steps)
        ],
    }
    recipe, _ = import_recipe(workspace, document, publish=True)
    recipe.refresh_from_db()
    action = registry.get("builtin").action("formatter")
    ctx = Context(workspace_id=workspace.pk, config={"operation": "text_upper", "input": "x 1"})
    t0 = time.perf_counter()
    for _ in range(2000):
        action.run(ctx)
    action_ms = (time.perf_counter() - t0) / 2000 * 1000
    runs = 30
    timings = []
    for _ in range(runs):
        run = start_run(recipe, Run.Source.MANUAL, {"text": "hello"})
        t0 = time.perf_counter()
        assert execute(run.id) == "succeeded"
        timings.append((time.perf_counter() - t0) * 1000)
    per_run = statistics.median(timings)
    return {
        "steps_per_run": steps,
        "run_ms_median": per_run,
        "action_ms": action_ms,
        "overhead_ms_per_step": per_run / steps - action_ms,
    }


# ------------------------------------------------------------------ 2. end to end


class Stack:
    """gunicorn + Celery workers + beat, all on this machine, pointed at the fake."""

    def __init__(self, env: dict, workers: int, pool: str, concurrency: int):
        self.env = env
        self.workers = workers
        self.pool = pool
        self.concurrency = concurrency
        self.port = free_port()
        self.procs: dict[str, subprocess.Popen] = {}
        self.logdir = ROOT / "var" / "bench"
        self.logdir.mkdir(parents=True, exist_ok=True)

    def _start(self, name: str, argv: list[str]) -> None:
        log = (self.logdir / f"{name}.log").open("w")
        self.procs[name] = subprocess.Popen(  # noqa: S603  (our own command line)
            argv,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start(self) -> Stack:
        py = sys.executable
        self._start(
            "web",
            [
                py,
                "-m",
                "gunicorn",
                "hub.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "2",
                "--worker-class",
                "gthread",
                "--threads",
                "4",
                "--log-level",
                "warning",
            ],
        )
        for i in range(self.workers):
            self._start(
                f"worker{i}",
                [
                    py,
                    "-m",
                    "celery",
                    "-A",
                    "hub",
                    "worker",
                    "--loglevel",
                    "WARNING",
                    "--pool",
                    self.pool,
                    "--concurrency",
                    str(self.concurrency),
                    "--hostname",
                    f"bench{i}@%h",
                    "--without-mingle",
                    "--without-gossip",
                ],
            )
        beat_file = self.logdir / "celerybeat-schedule"
        self._start(
            "scheduler",
            [
                py,
                "-m",
                "celery",
                "-A",
                "hub",
                "beat",
                "--loglevel",
                "WARNING",
                "--scheduler",
                "hub.system.scheduler:HeartbeatScheduler",
                "--schedule",
                str(beat_file),
            ],
        )
        deadline = time.monotonic() + 60
        import requests

        while time.monotonic() < deadline:
            try:
                requests.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.3)
        time.sleep(3)  # workers ready
        return self

    def rss(self) -> dict[str, float]:
        return {name: rss_mb(p.pid) for name, p in self.procs.items()}

    def stop(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)


def end_to_end(
    workspace,
    fake: dict,
    env: dict,
    workers: int,
    pool: str,
    concurrency: int,
    seconds: float,
    senders: int,
) -> dict:
    import requests

    from hub.engine.models import Run, StepRun
    from hub.recipes.services import import_recipe

    document = {
        "format": "toolstack.recipe/1",
        "name": "Bench webhook to Slack",
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
    stack = Stack(env, workers, pool, concurrency).start()
    url = f"http://127.0.0.1:{stack.port}/hooks/{recipe.public_id}/{recipe.webhook_secret}"
    sent, errors = [], []
    stop_at = time.monotonic() + seconds
    peak = {"rss": {}}

    def sender():
        session = requests.Session()
        n = 0
        while time.monotonic() < stop_at:
            n += 1
            try:
                r = session.post(url, json={"text": f"hello {n}"}, timeout=10)
                if r.status_code == 202:
                    sent.append(r.json()["run_id"])
                else:
                    errors.append(r.status_code)
            except requests.RequestException as error:
                errors.append(type(error).__name__)

    def sample_rss():
        while time.monotonic() < stop_at:
            now = stack.rss()
            if sum(now.values()) > sum(peak["rss"].values() or [0]):
                peak["rss"] = now
            time.sleep(1)

    try:
        threads = [threading.Thread(target=sender) for _ in range(senders)]
        threads.append(threading.Thread(target=sample_rss))
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        send_window = time.monotonic() - t0
        drain_deadline = time.monotonic() + 120
        while time.monotonic() < drain_deadline:
            if not Run.objects.filter(id__in=sent, status__in=Run.ACTIVE).exists():
                break
            time.sleep(0.5)
    finally:
        stack.stop()
    runs = Run.objects.filter(id__in=sent)
    done = list(runs.filter(status="succeeded").values_list("id", "created_at", "finished_at"))
    last_step = dict(
        StepRun.objects.filter(run_id__in=sent, key="post", status="succeeded").values_list(
            "run_id", "finished_at"
        )
    )
    latencies = [
        (last_step[run_id] - created).total_seconds() * 1000
        for run_id, created, _f in done
        if run_id in last_step
    ]
    if done:
        first = min(c for _i, c, _f in done)
        last = max(f for _i, _c, f in done)
        span = (last - first).total_seconds()
    else:
        span = float("nan")
    statuses = {}
    for status in runs.values_list("status", flat=True):
        statuses[status] = statuses.get(status, 0) + 1
    return {
        "workers": workers,
        "pool": pool,
        "concurrency": concurrency,
        "senders": senders,
        "accepted": len(sent),
        "accept_errors": len(errors),
        "accepted_per_s": len(sent) / send_window,
        "completed": len(done),
        "statuses": statuses,
        "completed_per_s": len(done) / span if span else float("nan"),
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "rss_mb": {k: round(v) for k, v in peak["rss"].items()},
        "rss_total_mb": round(sum(peak["rss"].values())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--serve-fake", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--setups",
        default="prefork:1x1,prefork:1x2,threads:1x8,threads:2x8",
        help="pool:WORKERSxCONCURRENCY, comma-separated",
    )
    args = parser.parse_args()
    if args.serve_fake:
        serve_fake()
        return

    fake_proc = subprocess.Popen(  # noqa: S603
        [sys.executable, __file__, "--serve-fake"], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    fake = json.loads(fake_proc.stdout.readline())
    os.environ.update(fake["settings"])
    try:
        setup_django()
        from django.conf import settings
        from django.db import connection

        from hub.accounts.models import Workspace
        from hub.connections.models import Connection

        workspace, _ = Workspace.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
        Connection.objects.filter(workspace=workspace, label="Bench Slack").delete()
        conn = Connection(workspace=workspace, integration="slack", label="Bench Slack")
        conn.set_tokens(fake["token"], None, None)
        conn.save()
        print(
            f"cores: {os.cpu_count()}  database: {connection.vendor}  "
            f"broker: {settings.CELERY_BROKER_URL.split(':')[0]}"
        )
        figures = overhead(workspace)
        print(
            "engine overhead: {overhead_ms_per_step:.3f} ms/step "
            "(run of {steps_per_run} formatter steps: {run_ms_median:.1f} ms median; "
            "formatter itself {action_ms:.4f} ms)".format(**figures)
        )
        env = {**os.environ, **fake["settings"], "LOG_LEVEL": "WARNING"}
        for setup in args.setups.split(","):
            pool, shape = setup.split(":")
            workers, concurrency = (int(x) for x in shape.split("x"))
            result = end_to_end(
                workspace, fake, env, workers, pool, concurrency, args.seconds, args.senders
            )
            print(
                f"e2e {pool} {workers} worker(s) x {concurrency}: "
                f"{result['completed_per_s']:.1f} completed/s "
                f"(accepted {result['accepted_per_s']:.1f}/s, {result['completed']}/"
                f"{result['accepted']} succeeded, statuses {result['statuses']}, "
                f"errors {result['accept_errors']}), "
                f"p50 {result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms, "
                f"RSS web+workers+scheduler {result['rss_total_mb']} MB {result['rss_mb']}",
                flush=True,
            )
    finally:
        fake_proc.terminate()
        fake_proc.wait()


if __name__ == "__main__":
    main()
