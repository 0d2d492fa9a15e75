"""Resident memory of every hub process once each has done its work: figures, not assertions.

    DATABASE_URL=postgres://… CELERY_BROKER_URL=redis://… python bench/footprint.py [--workers 2]

Starts the Procfile's web, ``--workers`` Celery workers and the scheduler (bench/stack.py),
sends ``--runs`` webhooks through the webhook -> formatter -> slack.send_message recipe
(the Slack fake), waits for them and for one scheduler tick, then prints each process
group's RSS (a process and its children: gunicorn's master and worker, a prefork pool) and
the total, the figure the "≤ 400 MB for all hub processes" target is about.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import send_webhooks
from stack import (
    Stack,
    bench_workspace,
    machine_line,
    rss_mb,
    setup_django,
    start_fake,
    webhook_recipe,
)


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--pool", default="threads")
    args = parser.parse_args()
    # One bench channel; the hub's own 1 message/s limit for it would make this take minutes.
    os.environ.setdefault("RATE_LIMIT_SLACK_CHAT_POSTMESSAGE", "1000000/second")

    fake_proc, fake = start_fake()
    try:
        setup_django()
        from django.conf import settings

        from hub.engine.models import Run

        workspace = bench_workspace(fake)
        recipe = webhook_recipe(workspace, fake, name="Bench footprint")
        print(machine_line(), flush=True)
        env = {**os.environ, **fake["settings"]}
        stack = Stack(env, args.workers, args.pool, 8, (1, 8)).start()
        try:
            path = f"/hooks/{recipe.public_id}/{recipe.webhook_secret}"
            report = send_webhooks(stack.port, path, senders=4, rate=50, seconds=args.runs / 50)
            ids = [s.run_id for s in report.accepted]
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                if not Run.objects.filter(id__in=ids, status__in=Run.ACTIVE).exists():
                    break
                time.sleep(0.5)
            succeeded = Run.objects.filter(id__in=ids, status="succeeded").count()
            time.sleep(settings.HEARTBEAT_SECONDS + 2)  # the scheduler has ticked and sent
            rss = stack.rss()
            members = {
                name: [(pid, rss_mb(pid) - sum(rss_mb(c) for c in children(pid))) for pid in pids]
                for name, pids in stack.pids().items()
            }
        finally:
            stack.stop()
        print(
            f"{len(ids)} webhooks accepted, {succeeded} runs succeeded; RSS per process group "
            f"(MB): " + ", ".join(f"{name} {mb:.1f}" for name, mb in rss.items()),
            flush=True,
        )
        for name, parts in members.items():
            if len(parts) > 1:  # gunicorn's master and worker, a prefork pool's children
                print(f"  {name}: " + ", ".join(f"pid {p} {mb:.1f}" for p, mb in parts), flush=True)
        print(
            f"RSS web + {args.workers} worker(s) + scheduler: {sum(rss.values()):.1f} MB",
            flush=True,
        )
        print(machine_line(), flush=True)
    finally:
        fake_proc.terminate()
        fake_proc.wait()


if __name__ == "__main__":
    main()
