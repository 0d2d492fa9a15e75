"""Webhook intake under saturation: figures, not assertions.

    HUB_VAR_DIR=$PWD/var/bench python bench/intake.py [--rate 200] [--seconds 60]
    DATABASE_URL=postgres://… CELERY_BROKER_URL=redis://… python bench/intake.py

The web (the Procfile's gunicorn) and the scheduler run, the workers do not: ``--rate``
webhooks/s arrive for ``--seconds`` on bench/load.py's open-loop schedule (latency counted
from the scheduled send time). It prints the accept latency (p50/p99/max), what was due,
sent and accepted, and the web's CPU per accepted webhook. Then it starts the workers,
waits until every accepted run finished, and reads the Slack fake's channel: every
accepted webhook's text must be there exactly once (lost and duplicated are counted).
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import send_webhooks
from stack import (
    CpuMeter,
    Stack,
    bench_workspace,
    fake_texts,
    machine_line,
    percentile,
    setup_django,
    start_fake,
    webhook_recipe,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--senders", type=int, default=32)
    parser.add_argument("--workers", default="threads:1x8")
    args = parser.parse_args()
    pool, shape = args.workers.split(":")
    workers, concurrency = (int(x) for x in shape.split("x"))

    fake_proc, fake = start_fake()
    try:
        setup_django()
        from django.db import connection

        from hub.engine.models import Run

        workspace = bench_workspace(fake)
        recipe = webhook_recipe(workspace, fake, name="Bench intake")
        print(machine_line(), flush=True)
        env = {**os.environ, **fake["settings"]}
        stack = Stack(env, workers, pool, concurrency, (1, 8), parts=("web", "scheduler"))
        stack.start()
        try:
            path = f"/hooks/{recipe.public_id}/{recipe.webhook_secret}"
            send_webhooks(stack.port, path, senders=4, rate=20, seconds=1, tag="warm-")
            meter = CpuMeter(stack, fake_proc.pid, connection.settings_dict["NAME"])
            cpu0 = meter.sample()
            report = send_webhooks(
                stack.port, path, senders=args.senders, rate=args.rate, seconds=args.seconds
            )
            cpu1 = meter.sample()
            accepted = report.accepted
            latency = [(s.answered - s.due) * 1000 for s in report.sends]
            statuses = collections.Counter(s.status for s in report.sends)
            cpu = CpuMeter.per_run(cpu0, cpu1, len(accepted))
            print(
                f"intake, workers stopped: {args.rate:.0f}/s for {args.seconds:.0f} s, "
                f"{args.senders} senders: due {report.due}, sent {len(report.sends)}, "
                f"answers {dict(statuses)}; accept latency from the scheduled time p50 "
                f"{percentile(latency, 50):.1f} ms, p99 {percentile(latency, 99):.1f} ms, "
                f"max {max(latency):.1f} ms; web CPU {cpu['web']:.2f} ms per accepted "
                f"webhook (machine busy {cpu['_machine_busy_pct']:.0f}%)",
                flush=True,
            )
            started = time.monotonic()
            stack.start_workers()
            ids = [s.run_id for s in accepted]
            deadline = time.monotonic() + 900
            while time.monotonic() < deadline:
                left = Run.objects.filter(id__in=ids, status__in=Run.ACTIVE).count()
                if not left:
                    break
                time.sleep(1)
            drained = time.monotonic() - started
        finally:
            stack.stop()
        runs = collections.Counter(Run.objects.filter(id__in=ids).values_list("status", flat=True))
        posted = collections.Counter(fake_texts(fake))
        sent_texts = [s.text.upper() for s in accepted]
        lost = sum(1 for t in sent_texts if posted[t] == 0)
        duplicated = sum(1 for t in sent_texts if posted[t] > 1)
        print(
            f"after starting {workers} worker process(es) x {concurrency}: backlog of "
            f"{len(ids)} drained in {drained:.0f} s ({len(ids) / max(drained, 1e-9):.0f} "
            f"runs/s); runs {dict(runs)}; at the fake: {len(sent_texts) - lost} of "
            f"{len(sent_texts)} accepted webhooks posted, lost {lost}, duplicated {duplicated}",
            flush=True,
        )
        print(machine_line(), flush=True)
    finally:
        fake_proc.terminate()
        fake_proc.wait()


if __name__ == "__main__":
    main()
