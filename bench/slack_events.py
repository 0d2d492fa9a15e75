"""Slack Events API endpoint benchmark: figures, not assertions.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hub_instant \
    CELERY_BROKER_URL=redis://127.0.0.1:6379/12 python bench/slack_events.py [--seconds 10]
        [--rate 200] [--senders 8] [--recipes 10]

What it measures, against the Procfile's web process (gunicorn, 1 worker x 8 threads, access
log on) serving ``POST /apps/slack/events``:

1. **capacity**: ``--senders`` keep-alive senders each post the next signed event as soon as
   the previous one is answered; accepted events/s = 200 answers per second.
2. **paced**: the senders together post ``--rate`` events/s (200 = the target) on a fixed
   schedule, open loop (a sender does not slow down when answers are slow); ack time = from
   sending the request to reading the whole answer; p50/p99/max over the window.

Each event is verified (HMAC over the raw body, timestamp), parsed, routed by team to
``--recipes`` active recipes of one Slack connection (two of them on the event's channel,
the rest elsewhere), and answered only after its runs and dedupe keys are inserted. No Celery
worker runs: the runs' messages wait in the broker. At the end the hub's rows are counted:
runs = accepted events x 2, none lost and none doubled. The machine's core count and load
average are printed first: every process (this load generator, gunicorn, the database) shares
its cores, so figures are comparable only on an otherwise idle machine.

The database is migrated and its "Bench Slack" workspace recreated: point it at a scratch one.
Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")

from engine import (  # noqa: E402  (bench/engine.py)
    cpu_seconds,
    descendants,
    free_port,
    percentile,
    postgres_pids,
    rss_mb,
    setup_django,
)

SECRET = "bench-signing-secret"  # noqa: S105  (a benchmark's own)
TEAM = "T0BENCHTEAM"
CHANNEL = "C0BENCHSUPPORT"
PATH = "/apps/slack/events"


def seed(recipes: int) -> int:
    """The Bench workspace: one Slack connection of TEAM and ``recipes`` active recipes, two
    of them on CHANNEL. Returns the workspace id."""
    from hub.accounts.models import Workspace
    from hub.connections.models import Connection
    from hub.recipes.services import import_recipe

    Workspace.objects.filter(slug="bench-slack").delete()
    workspace = Workspace.objects.create(name="Bench Slack", slug="bench-slack")
    connection = Connection(
        workspace=workspace,
        integration="slack",
        label="Bench Slack",
        external_id=TEAM,
        details={"team_id": TEAM, "bot_user_id": "U0BENCHBOT"},
    )
    connection.set_tokens("xoxb-bench", None, None)
    connection.save()
    for n in range(recipes):
        channel = CHANNEL if n < 2 else f"C0OTHER{n:04d}"
        document = {
            "format": "toolstack.recipe/1",
            "name": f"Bench watcher {n}",
            "trigger": {
                "app": "slack",
                "event": "new_message",
                "connection": "Bench Slack",
                "config": {"channel": channel, "ignore_bots": True},
            },
            "steps": [
                {
                    "key": "shout",
                    "app": "builtin",
                    "action": "formatter",
                    "config": {"operation": "text_upper", "input": "{{ trigger.text }}"},
                }
            ],
        }
        _recipe, problems = import_recipe(workspace, document, publish=True)
        assert not problems, problems
    return workspace.pk


def signed(n: int, tag: str) -> tuple[bytes, dict[str, str]]:
    ts = str(int(time.time()))
    envelope = {
        "token": "x",
        "team_id": TEAM,
        "api_app_id": "A0BENCH",
        "type": "event_callback",
        "event_id": f"Ev{tag}{n:09d}",
        "event_time": int(ts),
        "event": {
            "type": "message",
            "channel": CHANNEL,
            "user": "U0BENCHUSER",
            "text": f"Customer message {n}: the invoices page shows an error",
            "ts": f"{ts}.{n % 1_000_000:06d}",
            "channel_type": "channel",
        },
    }
    body = json.dumps(envelope).encode()
    digest = hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256)
    return body, {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": "v0=" + digest.hexdigest(),
    }


class Sender(threading.Thread):
    """One keep-alive connection posting events; ``interval`` None = as fast as answered."""

    def __init__(self, port, tag, first, step, until, interval=None, start_at=None):
        super().__init__(daemon=True)
        self.port, self.tag, self.n, self.step = port, tag, first, step
        self.until, self.interval, self.start_at = until, interval, start_at
        self.acks: list[float] = []
        self.errors = 0
        self.accepted = 0

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        due = self.start_at or time.monotonic()
        while True:
            if self.interval is not None:
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                due += self.interval
            if time.monotonic() >= self.until:
                break
            body, headers = signed(self.n, self.tag)
            self.n += self.step
            started = time.monotonic()
            try:
                conn.request("POST", PATH, body=body, headers=headers)
                answer = conn.getresponse()
                answer.read()
            except (OSError, http.client.HTTPException):
                self.errors += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                continue
            self.acks.append((time.monotonic() - started) * 1000)
            if answer.status == 200:
                self.accepted += 1
            else:
                self.errors += 1


def load(port, tag, senders, seconds, rate=None) -> dict:
    warmup = 1.0
    start = time.monotonic() + 0.2
    until = start + warmup + seconds
    interval = senders / rate if rate else None
    threads = [
        Sender(port, tag, i, senders, until, interval, start + i * (interval or 0) / senders)
        for i in range(senders)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    acks = [a for t in threads for a in t.acks]
    # The first second is warm-up: drop its share of answers.
    keep = acks[int(len(acks) * warmup / (warmup + seconds)) :]
    accepted = sum(t.accepted for t in threads)
    return {
        "accepted": accepted,
        "errors": sum(t.errors for t in threads),
        "per_second": accepted / (warmup + seconds),
        "p50": percentile(keep, 50),
        "p99": percentile(keep, 99),
        "max": max(keep) if keep else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--recipes", type=int, default=10)
    args = parser.parse_args()

    var = Path(tempfile.mkdtemp(prefix="bench-slack-"))
    os.environ.setdefault("HUB_VAR_DIR", str(var))
    os.environ["SLACK_SIGNING_SECRET"] = SECRET
    setup_django()
    from django.conf import settings

    from hub.engine.models import DedupeKey, Run

    workspace_id = seed(args.recipes)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PORT": str(port)}
    web = subprocess.Popen(  # noqa: S603  (the Procfile's web line)
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "hub.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "8",
            "--access-logfile",
            str(var / "access.log"),
            "--error-logfile",
            str(var / "error.log"),
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/healthz")
                break
            except OSError:
                time.sleep(0.2)
        cores = os.cpu_count()
        load1, load5, _ = os.getloadavg()
        print(f"cores {cores}, load average {load1:.2f} (1 min) {load5:.2f} (5 min)")
        print(
            f"database {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, broker "
            f"{settings.CELERY_BROKER_URL.split(':', 1)[0]}, web gunicorn 1x8, "
            f"{args.recipes} recipes on the team (2 on the channel)"
        )
        # Warm-up (imports, connections in each of gunicorn's threads): not reported, but
        # its events are counted in the rows check below.
        warm = load(port, "warm", args.senders, 3)
        dbname = settings.DATABASES["default"]["NAME"]

        def cpu() -> tuple[float, float]:
            web_cpu = sum(cpu_seconds(p) for p in descendants(web.pid))
            db_cpu = sum(cpu_seconds(p) for p in postgres_pids(str(dbname)))
            return web_cpu, db_cpu

        before = cpu()
        capacity = load(port, "cap", args.senders, args.seconds)
        after = cpu()
        print(
            f"capacity: {capacity['per_second']:.0f} accepted events/s "
            f"({args.senders} senders, {capacity['accepted']} accepted, "
            f"{capacity['errors']} refused or failed), ack p50 {capacity['p50']:.1f} ms "
            f"p99 {capacity['p99']:.1f} ms"
        )
        per_event = [
            (b - a) * 1000 / max(1, capacity["accepted"])
            for a, b in zip(before, after, strict=True)
        ]
        print(
            f"CPU per accepted event: web {per_event[0]:.1f} ms, PostgreSQL backends "
            f"{per_event[1]:.1f} ms (so one idle core would accept about "
            f"{1000 / max(0.1, sum(per_event)):.0f} events/s)"
        )
        paced = load(port, "pace", args.senders, args.seconds, rate=args.rate)
        print(
            f"paced at {args.rate:.0f} events/s: {paced['per_second']:.0f} accepted/s, ack p50 "
            f"{paced['p50']:.1f} ms p99 {paced['p99']:.1f} ms max {paced['max']:.1f} ms, "
            f"{paced['errors']} refused or failed (Slack's limit: 3000 ms)"
        )
        print(f"web RSS {rss_mb(web.pid):.0f} MB")
        accepted = warm["accepted"] + capacity["accepted"] + paced["accepted"]
        runs = Run.objects.filter(workspace_id=workspace_id).count()
        keys = DedupeKey.objects.filter(recipe__workspace_id=workspace_id).count()
        verdict = "ok" if runs == keys == accepted * 2 else "MISMATCH"
        print(
            f"rows: {runs} runs and {keys} dedupe keys for {accepted} accepted events x 2 "
            f"recipes = {accepted * 2} expected ({verdict})"
        )
    finally:
        web.terminate()
        web.wait(10)
        shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    main()
