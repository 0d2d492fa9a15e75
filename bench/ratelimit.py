"""Rate limiter benchmark: figures, not assertions.

    python bench/ratelimit.py [--seconds 8] [--processes 2] [--redis redis://127.0.0.1:6379/10]

1. What taking a slot costs, per storage (memory, file, and Redis when ``--redis`` is
   given): microseconds per ``Limiter.acquire`` with a limit that never makes it wait,
   from one process; this is added to every outbound request of a connection.
2. Requests per second at the Notion fake: ``--processes`` processes each calling
   ``users.me`` as fast as they can through the hub's Notion client, on ONE connection,
   for ``--seconds``, with Notion's 3/second limit; per storage that processes share (file,
   Redis). Prints requests/s as the fake counted them, the busiest one-second window
   (Notion's limit: 3) and how often a process was told to come back later (what the
   engine turns into a rescheduled step).

Only 127.0.0.1 is contacted. Windows go to a scratch directory (file) or to the given Redis
database under the ``LIMITER`` prefix.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
os.environ.setdefault("HUB_VAR_DIR", tempfile.mkdtemp(prefix="bench-ratelimit-"))

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from integrations import registry  # noqa: E402
from integrations.base import IntegrationError  # noqa: E402
from integrations.ratelimit import Limiter  # noqa: E402
from tests.fakes.notion import FakeNotion  # noqa: E402


def busiest_second(stamps: list[float]) -> int:
    stamps = sorted(stamps)
    return max(
        (sum(1 for t in stamps[i:] if t - start < 1.0) for i, start in enumerate(stamps)),
        default=0,
    )


def acquire_cost(url: str, count: int = 2000) -> float:
    settings.RATE_LIMIT_STORAGE = url
    settings.RATE_LIMITS = {"bench": "1000000/second"}
    limiter = Limiter("bench", f"cost-{time.time()}")
    started = time.perf_counter()
    for _ in range(count):
        limiter.acquire("bench")
    return (time.perf_counter() - started) / count * 1e6


def _caller(url: str, notion: dict, token: str, seconds: float, out) -> None:
    settings.RATE_LIMIT_STORAGE = url
    settings.RATE_LIMITS = {"notion": "3/second"}
    for key, value in notion.items():
        setattr(settings, key, value)
    app = registry.get("notion")
    connection = SimpleNamespace(pk="bench-connection", fresh_token=lambda: token)
    client = app.client(connection)
    deadline = time.monotonic() + seconds
    told_to_wait = 0
    while time.monotonic() < deadline:
        try:
            client.users.me()
        except IntegrationError as busy:  # over the limit for longer than a short wait
            told_to_wait += 1
            time.sleep(busy.retry_after or 0.1)
    out.put(told_to_wait)


def at_the_fake(url: str, processes: int, seconds: float) -> dict:
    with FakeNotion() as fake:
        token = fake.issue_token()
        context = multiprocessing.get_context("fork")
        out = context.Queue()
        workers = [
            context.Process(target=_caller, args=(url, fake.settings(), token, seconds, out))
            for _ in range(processes)
        ]
        for worker in workers:
            worker.start()
        told = sum(out.get(timeout=seconds + 30) for _ in workers)
        for worker in workers:
            worker.join(timeout=10)
        stamps = [c.at for c in fake.calls("users.me")]
    span = max(stamps) - min(stamps) if len(stamps) > 1 else 0.0
    return {
        "requests": len(stamps),
        "per_second": len(stamps) / span if span else 0.0,
        "busiest": busiest_second(stamps),
        "rescheduled": told,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--redis", default="")
    args = parser.parse_args()
    print(f"cores {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}")
    scratch = Path(tempfile.mkdtemp(prefix="windows-"))
    storages = {"memory": "memory://", "file": f"file://{scratch}"}
    if args.redis:
        storages["redis"] = args.redis
    print("\n1. cost of taking a slot (one process, never waiting)")
    for name, url in storages.items():
        print(f"   {name:7s} {acquire_cost(url):8.1f} µs per acquire")
    print(
        f"\n2. Notion users.me from {args.processes} processes on one connection, "
        f"{args.seconds:.0f} s, limit 3/second"
    )
    for name, url in storages.items():
        if name == "memory":
            continue  # per process: not shared, so not a limiter for several workers
        figures = at_the_fake(url, args.processes, args.seconds)
        print(
            f"   {name:7s} {figures['requests']:4d} requests, {figures['per_second']:.2f}/s "
            f"at the fake, busiest second {figures['busiest']}, "
            f"{figures['rescheduled']} told to come back later"
        )


if __name__ == "__main__":
    main()
