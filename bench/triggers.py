"""Polling triggers benchmark: figures, not assertions.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hub_bench_triggers \
    CELERY_BROKER_URL=redis://127.0.0.1:6379/11 python bench/triggers.py \
        [--recipes 1000] [--rate 5] [--seconds 120] [--burst 2000] [--workers 2x8]

N active recipes, each a Gmail ``new_email`` trigger on its own connection and its own label
(so each poll reads only its own history, as with one mailbox per recipe), with one
formatter step, polled by the real stack: Celery beat (the tick every ENGINE_TICK_SECONDS)
and worker processes (``--workers PROCESSESxTHREADS``), against the Gmail fake running in a
process of its own. Polls run at the default interval (TRIGGER_POLL_MINUTES, 1 minute).

1. **steady**: emails arrive at ``--rate``/s for ``--seconds``, each to a random recipe's
   label. Figures: runs created per second; the delay from the email appearing at the fake
   to its run starting (the Run's ``started_at``), p50 / p99 / max — at a 1-minute interval
   the expected p50 is about half a minute; the poll load (polls/s); CPU per process group
   (workers, beat, the fake, PostgreSQL backends of this database) as a share of one core,
   and the peak RSS of workers + beat.
2. **burst**: ``--burst`` emails at once, spread over the recipes; figure: items detected ->
   runs created per second, from the first run of the burst to the last.

Every run is checked against the deliveries: each email exactly one run. The database is
created if missing and migrated; its "Bench triggers" workspace is emptied first: point it at
a scratch database. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")

from bench.engine import (  # noqa: E402  (after the path and settings are set)
    cpu_seconds,
    descendants,
    percentile,
    postgres_pids,
    rss_mb,
    setup_django,
)

# ------------------------------------------------------------------ the fake, in its own process


def serve_fake(count: int) -> None:
    """Child mode: the Gmail fake with ``count`` labels and tokens; prints them as JSON, then
    delivers what stdin asks ("steady RATE SECONDS" / "burst N") and answers with the
    delivery times ({message id: unix time}) as one JSON line."""
    from tests.fakes.gmail import FakeGoogle

    fake = FakeGoogle(port=0).start()
    labels = [fake.add_label(f"Bench {n}") for n in range(count)]
    tokens = [fake.issue_token() for _ in range(count)]
    print(json.dumps({"settings": fake.settings(), "labels": labels, "tokens": tokens}))
    sys.stdout.flush()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    rng = random.Random(7)
    for line in sys.stdin:
        words = line.split()
        delivered = {}
        if words[0] == "steady":
            rate, seconds = float(words[1]), float(words[2])
            start = time.monotonic()
            n = 0
            while time.monotonic() - start < seconds:
                label = rng.choice(labels)
                m = fake.deliver("shop@bench.test", subject=f"Order {n}", labels=("INBOX", label))
                delivered[m["id"]] = time.time()
                n += 1
                time.sleep(max(0.0, start + n / rate - time.monotonic()))
        elif words[0] == "burst":
            for n in range(int(words[1])):
                label = labels[n % len(labels)]
                m = fake.deliver("shop@bench.test", subject=f"Burst {n}", labels=("INBOX", label))
                delivered[m["id"]] = time.time()
        print(json.dumps(delivered))
        sys.stdout.flush()


# ------------------------------------------------------------------ the stack


class Workers:
    """Celery worker processes (PROCESSESxTHREADS) and one beat, pointed at the fake."""

    def __init__(self, env: dict, processes: int, threads: int):
        self.env, self.processes, self.threads = env, processes, threads
        self.procs: dict[str, subprocess.Popen] = {}
        self.logdir = ROOT / "var" / "bench-triggers"
        self.logdir.mkdir(parents=True, exist_ok=True)

    def _start(self, name: str, argv: list[str]) -> None:
        log = (self.logdir / f"{name}.log").open("w")
        self.procs[name] = subprocess.Popen(  # noqa: S603  (our own command line)
            [sys.executable, "-m", "celery", "-A", "hub", *argv],
            cwd=ROOT,
            env={**self.env, "CELERY_WORKER_POOL": "threads"},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start(self) -> Workers:
        for i in range(self.processes):
            self._start(
                f"worker{i}",
                ["worker", "--loglevel", "INFO", "--pool", "threads", "--concurrency",
                 str(self.threads), "--hostname", f"triggers{i}@%h", "--without-mingle",
                 "--without-gossip"],
            )  # fmt: skip
        self._start(
            "beat",
            ["beat", "--loglevel", "INFO", "--scheduler", "hub.system.scheduler:HeartbeatScheduler",
             "--schedule", str(self.logdir / "celerybeat-schedule")],
        )  # fmt: skip
        return self

    def pids(self, prefix: str) -> list[int]:
        return [
            pid
            for name, p in self.procs.items()
            if name.startswith(prefix)
            for pid in descendants(p.pid)
        ]

    def rss(self) -> float:
        return sum(rss_mb(p.pid) for p in self.procs.values())

    def stop(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)


class Meter:
    def __init__(self, workers: Workers, fake_pid: int, dbname: str):
        self.workers, self.fake_pid, self.dbname = workers, fake_pid, dbname
        self.peak_rss = 0.0

    def sample(self) -> dict[str, float]:
        self.peak_rss = max(self.peak_rss, self.workers.rss())
        return {
            "workers": sum(map(cpu_seconds, self.workers.pids("worker"))),
            "beat": sum(map(cpu_seconds, self.workers.pids("beat"))),
            "gmail fake": cpu_seconds(self.fake_pid),
            "_postgres": {pid: cpu_seconds(pid) for pid in postgres_pids(self.dbname)},
            "_at": time.monotonic(),
        }

    @staticmethod
    def cores(before: dict, after: dict) -> str:
        wall = after["_at"] - before["_at"]
        shares = {k: (after[k] - before[k]) / wall * 100 for k in after if not k.startswith("_")}
        # Backends come and go with the workers' connections: those alive at both samples.
        pg = after["_postgres"]
        used = sum(pg[pid] - t for pid, t in before["_postgres"].items() if pid in pg)
        shares["postgres"] = used * 100 / wall
        return "  ".join(f"{k} {share:.0f}%" for k, share in shares.items())


def rss_watch(meter: Meter, stop: threading.Event) -> None:
    while not stop.wait(2):
        meter.peak_rss = max(meter.peak_rss, meter.workers.rss())


# ------------------------------------------------------------------ setup and phases


def build(workspace, labels: list[str], tokens: list[str]) -> list:
    from hub.connections.models import Connection
    from hub.recipes.models import Recipe
    from hub.recipes.services import import_recipe

    Recipe.objects.filter(workspace=workspace).delete()
    Connection.objects.filter(workspace=workspace).delete()
    recipes = []
    for n, (label, token) in enumerate(zip(labels, tokens, strict=True)):
        connection = Connection(workspace=workspace, integration="gmail", label=f"Mailbox {n}")
        connection.set_tokens(token, None, None)
        connection.save()
        document = {
            "format": "toolstack.recipe/1",
            "name": f"Orders {n}",
            "trigger": {
                "app": "gmail",
                "event": "new_email",
                "connection": f"Mailbox {n}",
                "config": {"label": label},
            },
            "steps": [
                {
                    "key": "shout",
                    "app": "builtin",
                    "action": "formatter",
                    "config": {"operation": "text_upper", "input": "{{ trigger.subject }}"},
                }
            ],
        }
        recipe, problems = import_recipe(workspace, document, publish=True)
        assert not problems, problems
        recipes.append(recipe)
    return recipes


def wait_seeded(workspace, count: int, timeout: float = 300) -> float:
    from hub.engine.models import TriggerState

    start = time.monotonic()
    states = TriggerState.objects.filter(recipe__workspace=workspace, kind="poll")
    while states.filter(last_polled_at__isnull=False).count() < count:
        if time.monotonic() - start > timeout:
            raise SystemExit("The first polls did not finish; see var/bench-triggers/*.log")
        time.sleep(1)
    return time.monotonic() - start


def collect(workspace, delivered: dict[str, float], timeout: float) -> tuple[list, list]:
    """Wait until every delivered email has a started run; (runs, missing ids)."""
    from hub.engine.models import Run

    deadline = time.monotonic() + timeout
    while True:
        rows = list(
            Run.objects.filter(
                workspace=workspace,
                trigger_data__id__in=list(delivered),
                started_at__isnull=False,
            ).values_list("trigger_data__id", "created_at", "started_at")
        )
        if len(rows) >= len(delivered) or time.monotonic() > deadline:
            break
        time.sleep(1)
    missing = sorted(set(delivered) - {r[0] for r in rows})
    return rows, missing


def polls_done(workspace) -> int:
    from hub.engine.models import TriggerState

    return TriggerState.objects.filter(recipe__workspace=workspace, kind="poll").count()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=5, help="steady: emails/s in all")
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--burst", type=int, default=2000)
    parser.add_argument("--workers", default="2x8", help="PROCESSESxTHREADS")
    parser.add_argument("--serve-fake", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fake:
        serve_fake(args.serve_fake)
        return

    fake = subprocess.Popen(  # noqa: S603
        [sys.executable, __file__, "--serve-fake", str(args.recipes)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    started = json.loads(fake.stdout.readline())
    os.environ.update(started["settings"])
    workers = None
    try:
        setup_django()
        from django.conf import settings
        from django.db import connection

        from hub.accounts.models import Workspace
        from hub.engine.models import Run

        workspace, _ = Workspace.objects.get_or_create(
            slug="bench-triggers", defaults={"name": "Bench triggers"}
        )
        print(
            f"cores: {os.cpu_count()}  database: {connection.vendor}  "
            f"broker: {settings.CELERY_BROKER_URL.split(':')[0]}  "
            f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
            flush=True,
        )
        t0 = time.monotonic()
        build(workspace, started["labels"], started["tokens"])
        print(f"published {args.recipes} recipes in {time.monotonic() - t0:.1f} s", flush=True)
        processes, threads = (int(x) for x in args.workers.split("x"))
        workers = Workers(dict(os.environ), processes, threads).start()
        meter = Meter(workers, fake.pid, settings.DATABASES["default"]["NAME"])
        stop = threading.Event()
        threading.Thread(target=rss_watch, args=(meter, stop), daemon=True).start()
        seeded = wait_seeded(workspace, args.recipes)
        print(
            f"first polls (seed) of {args.recipes} recipes done {seeded:.1f} s after the "
            f"workers started; poll interval {settings.TRIGGER_POLL_MINUTES} min, "
            f"workers {args.workers}",
            flush=True,
        )

        # 1. steady
        before = meter.sample()
        fake.stdin.write(f"steady {args.rate} {args.seconds}\n")
        fake.stdin.flush()
        delivered = json.loads(fake.stdout.readline())
        rows, missing = collect(workspace, delivered, timeout=150)
        after = meter.sample()
        delays = [(s.timestamp() - delivered[i]) for i, _c, s in rows]
        created = sorted(c.timestamp() for _i, c, _s in rows)
        span = (created[-1] - created[0]) if len(created) > 1 else float("nan")
        wall = after["_at"] - before["_at"]
        expected_polls = args.recipes * wall / (60 * settings.TRIGGER_POLL_MINUTES)
        print(
            f"steady: {len(delivered)} emails at {args.rate}/s over {args.seconds:.0f} s -> "
            f"{len(rows)} runs ({len(rows) / span:.2f} runs created/s), missing {len(missing)}, "
            f"duplicates {dupes(workspace, delivered)}\n"
            f"  delay email at the fake -> run started: p50 {percentile(delays, 50):.1f} s  "
            f"p99 {percentile(delays, 99):.1f} s  max {max(delays):.1f} s\n"
            f"  polls ≈ {expected_polls / wall:.1f}/s; CPU (share of one core) over "
            f"{wall:.0f} s: {Meter.cores(before, after)}\n"
            f"  peak RSS workers + beat: {meter.peak_rss:.0f} MB",
            flush=True,
        )

        # 2. burst
        fake.stdin.write(f"burst {args.burst}\n")
        fake.stdin.flush()
        delivered = json.loads(fake.stdout.readline())
        rows, missing = collect(workspace, delivered, timeout=240)
        created = sorted(c.timestamp() for _i, c, _s in rows)
        span = (created[-1] - created[0]) if len(created) > 1 else float("nan")
        delays = [(s.timestamp() - delivered[i]) for i, _c, s in rows]
        print(
            f"burst: {len(delivered)} emails at once over {args.recipes} recipes -> "
            f"{len(rows)} runs, missing {len(missing)}, duplicates "
            f"{dupes(workspace, delivered)}; {len(rows) / span:.1f} runs created/s "
            f"(first to last run of the burst, {span:.1f} s); delay to run started "
            f"p50 {percentile(delays, 50):.1f} s  p99 {percentile(delays, 99):.1f} s",
            flush=True,
        )
        stop.set()
        total = Run.objects.filter(workspace=workspace).count()
        print(f"runs in the bench workspace: {total}", flush=True)
    finally:
        if workers:
            workers.stop()
        fake.terminate()
        fake.wait()


def dupes(workspace, delivered: dict) -> int:
    from django.db.models import Count

    from hub.engine.models import Run

    counted = (
        Run.objects.filter(workspace=workspace, trigger_data__id__in=list(delivered))
        .values("trigger_data__id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    return counted.count()


if __name__ == "__main__":
    main()
