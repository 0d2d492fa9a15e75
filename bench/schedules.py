"""Ten thousand active schedules, fired by the real scheduler process: figures, not assertions.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hub_bench_schedules \
    CELERY_BROKER_URL=redis://127.0.0.1:6379/4 python bench/schedules.py \
        [--schedules 10000] [--minutes 30] [--workers 1]

Creates (in bulk) that many published recipes on a mix of schedules — every minute, every 5
and every 15 minutes (cron), every 7 and 13 minutes (intervals), hourly at a random minute,
daily and weekly at random times — in UTC, Asia/Seoul, Europe/Berlin and America/New_York,
each with one formatter step. Then runs ``celery beat`` with the hub's scheduler (which
ticks itself) and ``--workers`` worker processes for ``--minutes``; a second scheduler starts
at the half, and the first is stopped and started again at two thirds.

Afterwards it lists every due time each schedule had in the window (from the schedule
itself, computed here with croniter, independently of the hub's code) and compares with the
runs: **misses** (a due time without a run), **duplicates** (a due time with two), fire lag
p50/p99/max from the due time to the run's ``created_at`` and — the figure that counts — to
the moment its transaction committed, from when the run is there for everyone (from the
schedulers' "Fired …" log lines; a scheduler inserts a due time's runs ahead, stamped with
the due time, and commits them at it), and the CPU the schedulers used. The first scheduler
starts before the schedules exist and is measured idle for ``--idle-seconds`` (ticking
every second with nothing due).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")

from bench.common import cpu_seconds, ensure_database, header  # noqa: E402

ZONES = ["UTC", "Asia/Seoul", "Europe/Berlin", "America/New_York"]
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
START_MARGIN = 100  # seconds from the creation's start to the first due times


def mix(count: int, rng: random.Random) -> list[tuple[str, dict]]:
    """(event, config) of each schedule, in the friendly forms a member picks."""
    out = []
    for i in range(count):
        zone = ZONES[i % len(ZONES)]
        share = i % 20
        if share < 2:  # 10 % every minute
            out.append(("every", {"minutes": 1, "timezone": zone}))
        elif share < 5:  # 15 % every 5 minutes
            out.append(("every", {"minutes": 5, "timezone": zone}))
        elif share < 8:  # 15 % every 15 minutes
            out.append(("every", {"minutes": 15, "timezone": zone}))
        elif share < 12:  # 20 % intervals that do not divide an hour
            out.append(("every", {"minutes": rng.choice([7, 13]), "timezone": zone}))
        elif share < 17:  # 25 % hourly at some minute
            out.append(("hourly", {"minute": rng.randrange(60), "timezone": zone}))
        elif share < 19:  # 10 % daily
            at = f"{rng.randrange(24):02d}:{rng.randrange(60):02d}"
            out.append(("daily", {"at": at, "timezone": zone}))
        else:  # 5 % weekly
            days = rng.sample(WEEKDAYS, 2)
            at = f"{rng.randrange(24):02d}:{rng.randrange(60):02d}"
            out.append(("weekly", {"days": days, "at": at, "timezone": zone}))
    return out


def clear():
    """The bench's workspace, emptied of the recipes and runs of an earlier sitting."""
    from hub.accounts.models import Workspace
    from hub.engine.models import Run
    from hub.recipes.models import Recipe

    workspace, _ = Workspace.objects.get_or_create(
        slug="bench-schedules", defaults={"name": "Bench schedules"}
    )
    Run.objects.filter(workspace=workspace).delete()
    Recipe.objects.filter(workspace=workspace).delete()
    return workspace


def create(count: int, rng: random.Random):
    """The workspace and its recipes, versions and trigger states, in bulk."""
    from django.db import transaction
    from django.utils import timezone

    from hub.engine import schedule
    from hub.engine.models import TriggerState
    from hub.recipes.models import Recipe, RecipeVersion

    workspace = clear()
    # The first due times come after the creation has committed (it takes about a minute).
    now = timezone.now() + timedelta(seconds=START_MARGIN)
    schedules = mix(count, rng)
    with transaction.atomic():
        recipes = Recipe.objects.bulk_create(
            Recipe(workspace=workspace, name=f"Schedule {i:05d}", state=Recipe.State.ACTIVE)
            for i in range(count)
        )
        versions = []
        for recipe, (event, config) in zip(recipes, schedules, strict=True):
            document = {
                "format": "toolstack.recipe/1",
                "name": recipe.name,
                "trigger": {
                    "app": "schedule",
                    "event": event,
                    "config": schedule.normalize(event, config),
                },
                "steps": [
                    {
                        "key": "say",
                        "app": "builtin",
                        "action": "formatter",
                        "config": {
                            "operation": "text_upper",
                            "input": "due {{ trigger.scheduled_at }}",
                        },
                    },
                ],
            }
            recipe.draft = document
            versions.append(RecipeVersion(recipe=recipe, number=1, document=document))
        versions = RecipeVersion.objects.bulk_create(versions)
        for recipe, version in zip(recipes, versions, strict=True):
            recipe.current_version = version
        Recipe.objects.bulk_update(recipes, ["current_version", "draft"], batch_size=1000)
        TriggerState.objects.bulk_create(
            TriggerState(
                recipe=recipe,
                kind="schedule",
                next_fire_at=schedule.next_fire(version.document["trigger"]["config"], now),
            )
            for recipe, version in zip(recipes, versions, strict=True)
        )
    return workspace, now


def expected_fires(config: dict, after: datetime, until: datetime) -> list[datetime]:
    """Every due time in (after, until], computed from the schedule with croniter alone."""
    from croniter import croniter

    if config.get("interval_minutes"):
        step = int(config["interval_minutes"]) * 60
        first = (int(after.timestamp()) // step + 1) * step
        return [
            datetime.fromtimestamp(t, tz=UTC)
            for t in range(first, int(until.timestamp()) + 1, step)
        ]
    zone = ZoneInfo(config.get("timezone") or "UTC")
    walker = croniter(config["cron"], after.astimezone(zone))
    out = []
    while (moment := walker.get_next(datetime).astimezone(UTC)) <= until:
        out.append(moment)
    return out


def start(name: str, args: list[str], env: dict, log_dir: Path) -> subprocess.Popen:
    log = open(log_dir / f"{name}.log", "ab")  # noqa: SIM115 (kept open for the process)
    return subprocess.Popen(  # noqa: S603 (our own fixed command line)
        [sys.executable, "-m", "celery", "-A", "hub", *args],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def beat(name: str, env: dict, var: Path) -> subprocess.Popen:
    return start(
        name,
        [
            "beat",
            "--loglevel",
            "INFO",
            "--scheduler",
            "hub.system.scheduler:HeartbeatScheduler",
            "--schedule",
            str(var / f"{name}-schedule"),
        ],
        env,
        var,
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


FIRED = re.compile(
    r"Fired (\d+) schedules due by \S+: prepared in \d+ ms; stamped (\S+), "
    r"committed (\d+) ms later"
)


FIRED_LINE = re.compile(
    r"^(\S+ \S+) INFO hub\.engine\.scheduler: Fired (\d+) schedules due by (\S+): prepared in "
    r"(\d+) ms; stamped (\S+), committed (\d+) ms later",
    re.MULTILINE,
)


def fires(var: Path) -> None:
    """Each fire of the sitting from the schedulers' logs, and which ones committed over a
    second after their due time (with how long their preparation took)."""
    rows = []
    for path in sorted(var.glob("scheduler*.log")):
        for match in FIRED_LINE.finditer(path.read_text(errors="replace")):
            due, stamp = datetime.fromisoformat(match[3]), datetime.fromisoformat(match[5])
            lag = (stamp - due).total_seconds() + int(match[6]) / 1000
            rows.append((due, path.stem, int(match[2]), int(match[4]), lag))
    rows.sort()
    late = [row for row in rows if row[4] > 1]
    runs = sum(row[2] for row in rows)
    print(
        f"fires: {len(rows)} ({runs:,} runs); committed over 1 s after the due time: "
        f"{len(late)} fires, {sum(row[2] for row in late):,} runs"
    )
    for due, name, count, prepared, lag in late:
        print(
            f"  {due:%H:%M:%S} {name}: {count:,} runs, prepared in {prepared:,} ms, "
            f"committed {lag * 1000:,.0f} ms after the due time"
        )
    bursts = [row for row in rows if row[2] >= 2000]
    if bursts:
        lags = sorted(row[4] for row in bursts)
        print(
            f"  fires of 2,000 runs or more: {len(bursts)}, committed "
            f"{lags[0] * 1000:,.0f} to {lags[-1] * 1000:,.0f} ms after their due time"
        )


def commits(var: Path) -> dict[datetime, float]:
    """From the schedulers' logs: each batch's created_at stamp → seconds until its commit."""
    out = {}
    for path in var.glob("scheduler*.log"):
        for match in FIRED.finditer(path.read_text(errors="replace")):
            # Two schedulers may stamp batches alike (the due time): the later commit counts.
            stamp = datetime.fromisoformat(match[2])
            out[stamp] = max(out.get(stamp, 0.0), int(match[3]) / 1000)
    return out


def idle(seconds: float, process: subprocess.Popen) -> None:
    """The first scheduler before any schedule exists (it ticks every second): its CPU."""
    from hub.engine.models import TriggerState

    due = TriggerState.objects.filter(kind="schedule", next_fire_at__isnull=False)
    if due.exists():
        print(f"idle: skipped, {due.count():,} other schedules in the database")
        return
    time.sleep(15)  # past start-up
    before = cpu_seconds(process.pid)
    time.sleep(seconds)
    used = cpu_seconds(process.pid) - before
    print(
        f"idle scheduler (nothing due, waking every second): {used:.2f} s CPU over "
        f"{seconds:g} s = {used / seconds * 100:.2f} % of one core"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--schedules", type=int, default=10_000)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--idle-seconds", type=float, default=60)
    parser.add_argument(
        "--fires", action="store_true", help="only list the fires in the last sitting's logs"
    )
    args = parser.parse_args()
    if args.fires:
        fires(Path(os.environ.get("HUB_VAR_DIR") or ROOT / "var") / "bench-schedules")
        return
    dbname = ensure_database()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from hub.engine.models import Run
    from hub.recipes.models import Recipe

    print(header(f"{args.schedules:,} schedules for {args.minutes:g} minutes"))
    print(
        f"ENGINE_TICK_SECONDS {settings.ENGINE_TICK_SECONDS:g}, ENGINE_SCHEDULE_LEAD_SECONDS "
        f"{settings.ENGINE_SCHEDULE_LEAD_SECONDS:g}, workers {args.workers}"
    )
    call_command("migrate", verbosity=0)
    var = Path(os.environ.get("HUB_VAR_DIR") or ROOT / "var") / "bench-schedules"
    var.mkdir(parents=True, exist_ok=True)
    for old_log in var.glob("*.log"):
        old_log.unlink()
    env = {**os.environ, "HUB_VAR_DIR": str(var), "PYTHONPATH": str(ROOT)}
    clear()
    first = beat("schedulerA", env, var)
    if args.idle_seconds:
        idle(args.idle_seconds, first)
    started = time.perf_counter()
    workspace, created_at = create(args.schedules, random.Random(args.seed))
    print(
        f"created {args.schedules:,} published schedules in {time.perf_counter() - started:.0f} s"
    )

    workers = [
        start(
            f"worker{i}",
            [
                "worker",
                "--loglevel",
                "WARNING",
                "--pool",
                "threads",
                "--concurrency",
                "8",
                "--hostname",
                f"bench{i}@%h",
            ],
            env,
            var,
        )
        for i in range(args.workers)
    ]
    # The window opens at the first due times, the first scheduler long up by then.
    time.sleep(max(0.0, (created_at - datetime.now(UTC)).total_seconds()))
    window_start = datetime.now(UTC)
    cpu_start = cpu_seconds(first.pid)
    schedulers, cpu_used = [first], -cpu_start
    total = args.minutes * 60
    second_at, restart_at = total / 2, total * 2 / 3
    second = restarted = None
    began = time.monotonic()
    while (elapsed := time.monotonic() - began) < total:
        if second is None and elapsed >= second_at:
            second = beat("schedulerB", env, var)
            schedulers.append(second)
            print(f"{elapsed / 60:5.1f} min: a second scheduler started")
        if restarted is None and elapsed >= restart_at:
            cpu_used += cpu_seconds(first.pid)
            stop(first)
            restarted = beat("schedulerA", env, var)
            schedulers.append(restarted)
            print(f"{elapsed / 60:5.1f} min: the first scheduler restarted")
        time.sleep(1)
    window_end = datetime.now(UTC)
    cpu_used += sum(cpu_seconds(p.pid) for p in schedulers if p.poll() is None)
    for process in schedulers + workers:
        stop(process)

    # Due times in the window, less the last 10 s (a tick may still have been on its way).
    until = window_end - timedelta(seconds=10)
    fired = Counter()
    lags, committed_lags, unmatched = [], [], 0
    commit_after = commits(var)
    runs = Run.objects.filter(workspace=workspace).values_list(
        "recipe_id", "trigger_data", "created_at"
    )
    for recipe_id, data, run_created in runs.iterator(chunk_size=5000):
        due = datetime.fromisoformat(data["scheduled_at"])
        fired[(recipe_id, due)] += 1
        if due <= until:
            lags.append((run_created - due).total_seconds())
            if run_created in commit_after:
                committed_lags.append(lags[-1] + commit_after[run_created])
            else:
                unmatched += 1
    expected = 0
    misses = 0
    for recipe_id, document in Recipe.objects.filter(workspace=workspace).values_list(
        "id", "current_version__document"
    ):
        for due in expected_fires(document["trigger"]["config"], created_at, until):
            expected += 1
            misses += fired[(recipe_id, due)] == 0
    duplicates = sum(n - 1 for n in fired.values() if n > 1)
    print(
        f"window {window_start:%H:%M:%S} to {window_end:%H:%M:%S} UTC; due times expected: "
        f"{expected:,}; runs: {sum(fired.values()):,}"
    )
    print(f"misses: {misses}  duplicates: {duplicates}")
    if lags:
        print(
            f"fire lag (due → run created): p50 {statistics.median(lags) * 1000:.0f} ms, "
            f"p99 {percentile(lags, 0.99) * 1000:.0f} ms, max {max(lags) * 1000:.0f} ms"
        )
    if committed_lags:
        print(
            f"fire lag (due → run committed): p50 {statistics.median(committed_lags) * 1000:.0f}"
            f" ms, p99 {percentile(committed_lags, 0.99) * 1000:.0f} ms, max "
            f"{max(committed_lags) * 1000:.0f} ms ({unmatched} runs without a log line)"
        )
    print(
        f"schedulers' CPU: {cpu_used:.1f} s over {args.minutes:g} min = "
        f"{cpu_used / (args.minutes * 60) * 100:.1f} % of one core"
    )
    fires(var)
    print(f"(database {dbname}; logs in {var})")


if __name__ == "__main__":
    main()
