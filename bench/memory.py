"""A worker's memory over many runs: figures, not assertions.

    HUB_VAR_DIR=$PWD/var/bench python bench/memory.py [--runs 20000] [--batch 1000]
    DATABASE_URL=postgres://… CELERY_BROKER_URL=redis://… python bench/memory.py

One Celery worker as the Procfile starts it (threads pool, 8 slots) executes the
webhook -> formatter -> slack.send_message recipe against the Slack fake, ``--batch`` runs
at a time (inserted and enqueued by this process, so the worker alone is measured), until
``--runs`` have finished. After each batch it prints the worker's resident memory; the last
line gives the growth per 10,000 runs over the second half (after warm-up), the figure that
says whether a recycle policy is needed (docs/engine.md, "Scale").
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stack import (
    Stack,
    bench_workspace,
    machine_line,
    setup_django,
    start_fake,
    webhook_recipe,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--pool", default="threads")
    args = parser.parse_args()
    # Every run posts to the one bench channel, which the hub's own limiter holds to Slack's
    # published 1 message/s: the worker would be measured waiting. The bench lifts it.
    os.environ.setdefault("RATE_LIMIT_SLACK_CHAT_POSTMESSAGE", "1000000/second")
    # Stopped early (SIGTERM or ^C), the bench still prints how far it got and the slope.
    signal.signal(signal.SIGTERM, signal.default_int_handler)

    fake_proc, fake = start_fake()
    try:
        setup_django()
        from hub.engine.models import Run
        from hub.engine.runs import start_run

        workspace = bench_workspace(fake)
        recipe = webhook_recipe(workspace, fake, name="Bench memory")
        print(machine_line(), flush=True)
        env = {**os.environ, **fake["settings"]}
        stack = Stack(env, 1, args.pool, 8, (1, 8), parts=("workers",)).start()
        samples: list[tuple[int, float]] = []
        started = time.monotonic()
        done = 0
        try:
            while done < args.runs:
                ids = [
                    start_run(recipe, Run.Source.WEBHOOK, {"text": f"m{done + i}"}).id
                    for i in range(args.batch)
                ]
                while Run.objects.filter(id__in=ids, status__in=Run.ACTIVE).exists():
                    time.sleep(0.5)
                failed = Run.objects.filter(id__in=ids).exclude(status="succeeded").count()
                done += len(ids)
                rss = stack.rss()["worker0"]
                samples.append((done, rss))
                elapsed = time.monotonic() - started
                print(
                    f"runs {done:>7}: worker RSS {rss:6.1f} MB; batch not succeeded {failed}; "
                    f"{done / elapsed:.0f} runs/s so far; {elapsed / 60:.1f} min; "
                    f"load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
                Run.objects.filter(id__in=ids).delete()  # keep the database small
        except KeyboardInterrupt:
            print(f"stopped early after {done} runs", flush=True)
        finally:
            stack.stop()
        half = samples[len(samples) // 2 :]
        if len(half) >= 2:
            (r0, m0), (r1, m1) = half[0], half[-1]
            growth = (m1 - m0) / max(1, r1 - r0) * 10_000
            print(
                f"worker RSS: {samples[0][1]:.1f} MB after {samples[0][0]} runs, "
                f"{samples[-1][1]:.1f} MB after {samples[-1][0]}; second half grew "
                f"{growth:+.2f} MB per 10,000 runs",
                flush=True,
            )
        print(machine_line(), flush=True)
    finally:
        fake_proc.terminate()
        fake_proc.wait()


if __name__ == "__main__":
    main()
