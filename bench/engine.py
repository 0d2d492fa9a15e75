"""Recipe engine benchmark: figures, not assertions.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hub_bench \
    CELERY_BROKER_URL=redis://127.0.0.1:6379/6 python bench/engine.py [--seconds 15]
        [--setups threads:1x8/web1x8,threads:2x8/web1x8] [--modes unpaced,paced] [--rate 150]

Prints the core count and the load average first: the figures are only comparable on an
otherwise idle machine (everything — load generator, web, workers, PostgreSQL, Redis and
the Slack fake — shares its cores).

1. Engine overhead per step: a run of 20 formatter steps executed in-process, minus the
   time the formatter itself takes, divided by the steps. Every step is recorded as usual.
2. End to end: webhook -> formatter -> slack.send_message against the Slack fake, with
   8 concurrent webhook senders (keep-alive ``http.client`` threads in this process, so the
   load generator costs little CPU), served by the Procfile's layout and log levels:
   gunicorn (gthread, ``/webWxT``: workers x threads, access log on), N Celery worker
   processes (``pool:NxC``), one beat. For each setup, two measurements:

   - **unpaced** (capacity): each sender posts its next webhook as soon as the previous one
     is answered. Intake is faster than execution, so the queue grows and latency is
     queueing time (reported, but meaningless); the figure is completed executions/s.
   - **paced** (latency): the 8 senders together post ``--rate`` webhooks/s (150 = the
     target) on a fixed schedule, each rate/8, open loop — a sender does not wait for runs
     to finish and does not slow down when answers are slow, so the offered load is the
     target whatever the system does, and p50/p99 are measured at a sustained 150/s.
     (A closed loop waiting for completion would hide overload by slowing its own rate.)

   Both discard a 2 s warm-up; then, over ``--seconds``: completed/s = runs whose last step
   finished in the window; latency = webhook accepted (the Run row's ``created_at``, set in
   the request) -> the slack step's ``finished_at``, for runs accepted in the window; RSS =
   peak resident memory of web + workers + scheduler (all processes, children included);
   CPU ms/run = CPU each process group used in the window per completed run (PostgreSQL:
   the backends of this database only), with the machine's busy share.

The database it is pointed at is created if missing, migrated, and its "Bench" workspace's
runs are deleted:
point it at a scratch database. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import http.client
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


def ensure_database() -> None:
    """Create the scratch PostgreSQL database named in DATABASE_URL when it does not exist."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return
    import dj_database_url
    import psycopg
    from psycopg import sql

    params = dj_database_url.parse(url)
    with psycopg.connect(
        dbname="postgres",
        user=params["USER"] or None,
        password=params["PASSWORD"] or None,
        host=params["HOST"] or None,
        port=params["PORT"] or None,
        autocommit=True,
    ) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [params["NAME"]]
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(params["NAME"])))


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


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process (all its threads), in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, to show what else was running."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class Stack:
    """gunicorn + Celery workers + beat, all on this machine, pointed at the fake. The layout
    is the Procfile's: gunicorn --workers WEB_WORKERS --threads WEB_THREADS, WORKERS Celery
    worker processes of POOL x CONCURRENCY, one beat."""

    def __init__(self, env: dict, workers: int, pool: str, concurrency: int, web: tuple[int, int]):
        self.env = env
        self.workers = workers
        self.pool = pool
        self.concurrency = concurrency
        self.web = web
        self.port = free_port()
        self.procs: dict[str, subprocess.Popen] = {}
        self.logdir = ROOT / "var" / "bench"
        self.logdir.mkdir(parents=True, exist_ok=True)

    def _start(self, name: str, argv: list[str]) -> None:
        log = (self.logdir / f"{name}.log").open("w")
        self.procs[name] = subprocess.Popen(  # noqa: S603  (our own command line)
            argv,
            cwd=ROOT,
            # Celery takes `--pool prefork` for "not given" and then uses worker_pool from
            # the settings (threads): set the setting too.
            env={**self.env, "CELERY_WORKER_POOL": self.pool},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start(self) -> Stack:
        py = sys.executable
        web_workers, web_threads = self.web
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
                str(web_workers),
                "--worker-class",
                "gthread",
                "--threads",
                str(web_threads),
                "--access-logfile",
                "-",
                "--error-logfile",
                "-",
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
                    "INFO",
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
                "INFO",
                "--scheduler",
                "hub.system.scheduler:HeartbeatScheduler",
                "--schedule",
                str(beat_file),
            ],
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                break
            except OSError:
                time.sleep(0.3)
        time.sleep(3)  # workers ready
        return self

    def pids(self) -> dict[str, list[int]]:
        return {name: descendants(p.pid) for name, p in self.procs.items()}

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


def end_to_end(
    workspace,
    fake: dict,
    env: dict,
    layout: dict,
    seconds: float,
    senders: int,
    rate: float | None,
    fake_pid: int,
) -> dict:
    """``rate`` None: each sender posts its next webhook as soon as the last one was
    answered (saturating; completed/s is the capacity). ``rate`` R: the senders together
    post R webhooks/s on a fixed schedule (R/senders each), whatever the answers' speed, so
    latency is measured at a known, sustained load."""
    from django.db import connection

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
    stack = Stack(
        env, layout["workers"], layout["pool"], layout["concurrency"], layout["web"]
    ).start()
    path = f"/hooks/{recipe.public_id}/{recipe.webhook_secret}"
    sent, errors = [], []
    warmup = 2.0
    t_start = time.monotonic()
    stop_at = t_start + warmup + seconds
    peak = {"rss": {}}
    meter = CpuMeter(stack, fake_pid, connection.settings_dict["NAME"])
    marks: dict[str, object] = {}

    def sender(index: int):
        conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=10)
        headers = {"Content-Type": "application/json"}
        interval = senders / rate if rate else 0.0
        due = t_start + (index / senders) * interval
        n = 0
        while True:
            now = time.monotonic()
            if now >= stop_at:
                break
            if rate:
                if due > now:
                    time.sleep(due - now)
                due += interval
            n += 1
            body = json.dumps({"text": f"hello {index}-{n}"})
            try:
                conn.request("POST", path, body, headers)
                response = conn.getresponse()
                answer = response.read()
                if response.status == 202:
                    sent.append(json.loads(answer)["run_id"])
                else:
                    errors.append(response.status)
            except (OSError, http.client.HTTPException) as error:
                errors.append(type(error).__name__)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=10)
        conn.close()

    def sample():
        time.sleep(warmup)
        marks["cpu0"], marks["wall0"] = meter.sample(), timezone_now()
        while time.monotonic() < stop_at:
            now = stack.rss()
            if sum(now.values()) > sum(peak["rss"].values() or [0]):
                peak["rss"] = now
            time.sleep(0.5)
        marks["cpu1"], marks["wall1"] = meter.sample(), timezone_now()

    try:
        threads = [threading.Thread(target=sender, args=(i,)) for i in range(senders)]
        threads.append(threading.Thread(target=sample))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        send_window = time.monotonic() - t_start
        drain_deadline = time.monotonic() + 180
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
    w0, w1 = marks["wall0"], marks["wall1"]
    # Figures over the measured window (after the warm-up, while the senders were sending).
    in_window = [(i, c, f) for i, c, f in done if w0 <= f <= w1]
    window_s = (w1 - w0).total_seconds()
    latencies = [
        (last_step[run_id] - created).total_seconds() * 1000
        for run_id, created, _f in done
        if run_id in last_step and w0 <= created <= w1
    ]
    accepted_in_window = runs.filter(created_at__gte=w0, created_at__lte=w1).count()
    statuses = {}
    for status in runs.values_list("status", flat=True):
        statuses[status] = statuses.get(status, 0) + 1
    return {
        **layout,
        "senders": senders,
        "rate": rate,
        "accepted": len(sent),
        "accept_errors": len(errors),
        "accepted_per_s": accepted_in_window / window_s,
        "completed": len(done),
        "statuses": statuses,
        "completed_per_s": len(in_window) / window_s,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "max_ms": max(latencies) if latencies else float("nan"),
        "send_window_s": send_window,
        "cpu_ms_per_run": CpuMeter.per_run(marks["cpu0"], marks["cpu1"], len(in_window)),
        "rss_mb": {k: round(v) for k, v in peak["rss"].items()},
        "rss_total_mb": round(sum(peak["rss"].values())),
    }


def timezone_now():
    from django.utils import timezone

    return timezone.now()


def parse_layout(text: str) -> dict:
    """pool:WORKERSxCONCURRENCY[/webWxT], e.g. threads:1x8/web1x8."""
    pool, rest = text.split(":")
    shape, _, web = rest.partition("/web")
    workers, concurrency = (int(x) for x in shape.split("x"))
    web_shape = tuple(int(x) for x in web.split("x")) if web else (1, 8)
    return {"pool": pool, "workers": workers, "concurrency": concurrency, "web": web_shape}


def describe(result: dict) -> str:
    cpu = result["cpu_ms_per_run"]
    cpu_text = ", ".join(
        f"{k} {v:.1f}" for k, v in sorted(cpu.items(), key=lambda kv: -kv[1]) if k[0] != "_"
    )
    load = f"{result['rate']:.0f}/s paced" if result["rate"] else "unpaced"
    web = "x".join(map(str, result["web"]))
    return (
        f"e2e [{load}, {result['senders']} senders] {result['pool']} {result['workers']} "
        f"worker process(es) x {result['concurrency']}, web {web}: "
        f"{result['completed_per_s']:.1f} completed/s "
        f"(accepted {result['accepted_per_s']:.1f}/s; {result['completed']}/{result['accepted']} "
        f"succeeded, statuses {result['statuses']}, errors {result['accept_errors']}); "
        f"accepted->done p50 {result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms, "
        f"max {result['max_ms']:.0f} ms; RSS web+workers+scheduler {result['rss_total_mb']} MB "
        f"{result['rss_mb']}; CPU ms/run: {cpu_text} "
        f"(machine busy {cpu['_machine_busy_pct']:.0f}%)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--rate", type=float, default=150, help="paced run: webhooks/s in all")
    parser.add_argument("--serve-fake", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--setups",
        default=DEFAULT_SETUPS,
        help="pool:WORKERSxCONCURRENCY[/webWORKERSxTHREADS], comma-separated",
    )
    parser.add_argument(
        "--modes", default="unpaced,paced", help="unpaced (capacity) and/or paced (latency)"
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
            f"broker: {settings.CELERY_BROKER_URL.split(':')[0]}  "
            f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
            flush=True,
        )
        figures = overhead(workspace)
        print(
            "engine overhead: {overhead_ms_per_step:.3f} ms/step "
            "(run of {steps_per_run} formatter steps: {run_ms_median:.1f} ms median; "
            "formatter itself {action_ms:.4f} ms)".format(**figures),
            flush=True,
        )
        # Log levels as in the Procfile (INFO; Celery's per-task lines are off by default,
        # see CELERY_TASK_LOG_LEVEL in settings.py) and gunicorn's access log on.
        env = {**os.environ, **fake["settings"]}
        for setup in args.setups.split(","):
            layout = parse_layout(setup)
            for mode in args.modes.split(","):
                rate = args.rate if mode == "paced" else None
                result = end_to_end(
                    workspace, fake, env, layout, args.seconds, args.senders, rate, fake_proc.pid
                )
                print(describe(result), flush=True)
    finally:
        fake_proc.terminate()
        fake_proc.wait()


DEFAULT_SETUPS = "threads:1x8/web1x8,threads:2x8/web1x8"

if __name__ == "__main__":
    main()
