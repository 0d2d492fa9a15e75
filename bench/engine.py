"""Recipe engine benchmark: figures, not assertions.

    # PostgreSQL + Redis (use a scratch database and your own Redis db number)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hub_bench \
    CELERY_BROKER_URL=redis://127.0.0.1:6379/6 python bench/engine.py
    # the embedded defaults, what `make run` starts (SQLite + the file-system broker)
    HUB_VAR_DIR=$PWD/var/bench python bench/engine.py
        [--seconds 10] [--setups threads:1x8/web1x8,threads:2x8/web1x8] [--senders 1,8,32]
        [--modes closed,paced] [--rate 30] [--find-rate 40,60,80,100,120,150]

Every result line is preceded by the machine's cores, load average and a calibration
figure (a fixed pure-Python workload timed in the same sitting): the machine is shared, and
absolute figures drift with what else runs. CPU ms per completed run, by process group, is
the figure that does not depend on how many cores were free.

1. Engine overhead per step: a run of 20 formatter steps executed in-process, minus the
   time the formatter itself takes, divided by the steps. Every step is recorded as usual.
2. End to end: webhook -> formatter -> slack.send_message against the Slack fake, served by
   the Procfile's own command lines (bench/stack.py): gunicorn (``/webWxT``), N Celery
   worker processes (``pool:NxC``), one beat. Load is bench/load.py's:

   - **closed** (capacity): each sender posts again as soon as it is answered; the figure
     is completed executions/s (latency is queueing time and means little).
   - **paced** (latency): open loop, ``--rate`` webhooks/s on a fixed schedule shared by
     the senders; latencies are counted from the scheduled send time, and the line says how
     many were due and how many were sent.
   - ``--find-rate``: paced runs at rising rates; the highest at which p99 scheduled ->
     done stays <= 100 ms.

   CPU ms/run = CPU each process group used from the start of the load until every run
   finished, per completed run (PostgreSQL: this database's backends; broker: the Redis
   server, shared with the machine's other users). RSS = peak of web + workers + scheduler.

The database it is pointed at is created if missing and migrated, and its "Bench"
workspace's runs are deleted: point it at a scratch database. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import send_webhooks

# Re-exported for the other benchmarks that import them from here.
from stack import (  # noqa: F401
    ROOT,
    CpuMeter,
    Stack,
    bench_workspace,
    ensure_database,
    free_port,
    machine_line,
    percentile,
    rss_mb,
    setup_django,
    start_fake,
    webhook_recipe,
)

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


def wait_finished(run_ids: list[int], timeout: float = 300) -> None:
    from hub.engine.models import Run

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Run.objects.filter(id__in=run_ids, status__in=Run.ACTIVE).exists():
            return
        time.sleep(0.25)


def end_to_end(stack: Stack, recipe, fake_pid: int, senders: int, rate, seconds: float) -> dict:
    from django.db import connection

    from hub.engine.models import Run, StepRun

    path = f"/hooks/{recipe.public_id}/{recipe.webhook_secret}"
    meter = CpuMeter(stack, fake_pid, connection.settings_dict["NAME"])
    peak: dict = {"rss": {}}
    sampling = threading.Event()

    def sample_rss():
        while not sampling.is_set():
            now = stack.rss()
            if sum(now.values()) > sum(peak["rss"].values() or [0]):
                peak["rss"] = now
            time.sleep(0.5)

    rss_thread = threading.Thread(target=sample_rss)
    rss_thread.start()
    cpu0 = meter.sample()
    report = send_webhooks(stack.port, path, senders=senders, rate=rate, seconds=seconds)
    send_end = time.time()
    ids = [s.run_id for s in report.accepted]
    wait_finished(ids)
    cpu1 = meter.sample()
    sampling.set()
    rss_thread.join()

    runs = dict(Run.objects.filter(id__in=ids).values_list("id", "created_at"))
    statuses: dict[str, int] = {}
    for status in Run.objects.filter(id__in=ids).values_list("status", flat=True):
        statuses[status] = statuses.get(status, 0) + 1
    done = dict(
        StepRun.objects.filter(run_id__in=ids, key="post", status="succeeded").values_list(
            "run_id", "finished_at"
        )
    )
    first_due = min((s.due for s in report.sends), default=send_end)
    in_window = [f for f in done.values() if f.timestamp() <= send_end]
    accepted_to_done = [
        (done[i] - runs[i]).total_seconds() * 1000 for i in ids if i in done and i in runs
    ]
    due_to_done = [
        (done[s.run_id].timestamp() - s.due) * 1000 for s in report.accepted if s.run_id in done
    ]
    answer_ms = [(s.answered - s.due) * 1000 for s in report.sends]
    return {
        "senders": senders,
        "rate": rate,
        "due": report.due,
        "sent": len(report.sends),
        "accepted": len(ids),
        "errors": report.errors,
        "completed": len(done),
        "statuses": statuses,
        "completed_per_s": len(in_window) / max(1e-9, send_end - first_due),
        "accept_p99_ms": percentile(answer_ms, 99),
        "p50_ms": percentile(accepted_to_done, 50),
        "p99_ms": percentile(accepted_to_done, 99),
        "due_p99_ms": percentile(due_to_done, 99),
        "cpu_ms_per_run": CpuMeter.per_run(cpu0, cpu1, len(done)),
        "rss_mb": {k: round(v) for k, v in peak["rss"].items()},
        "rss_total_mb": round(sum(peak["rss"].values())),
    }


def idle_cpu(stack: Stack, fake_pid: int, layout: dict, seconds: float) -> str:
    """CPU of the hub's processes with nothing to do (web, workers, scheduler), as a share
    of one core: what a laptop pays for leaving `make run` on."""
    from django.db import connection

    meter = CpuMeter(stack, fake_pid, connection.settings_dict["NAME"])
    time.sleep(5)  # past start-up
    before = meter.sample()
    time.sleep(seconds)
    after = meter.sample()
    used = {k: (after[k] - before[k]) / seconds * 100 for k in ("web", "workers", "scheduler")}
    parts = ", ".join(f"{k} {v:.2f}%" for k, v in used.items())
    return (
        f"idle [{layout['workers']} worker process(es)]: {sum(used.values()):.2f}% of one core "
        f"over {seconds:.0f} s ({parts})"
    )


def parse_layout(text: str) -> dict:
    """pool:WORKERSxCONCURRENCY[/webWxT], e.g. threads:1x8/web1x8."""
    pool, rest = text.split(":")
    shape, _, web = rest.partition("/web")
    workers, concurrency = (int(x) for x in shape.split("x"))
    web_shape = tuple(int(x) for x in web.split("x")) if web else (1, 8)
    return {"pool": pool, "workers": workers, "concurrency": concurrency, "web": web_shape}


def describe(layout: dict, result: dict) -> str:
    cpu = result["cpu_ms_per_run"]
    shown = {k: v for k, v in cpu.items() if k[0] != "_" and v >= 0.05}
    cpu_text = ", ".join(f"{k} {v:.1f}" for k, v in sorted(shown.items(), key=lambda kv: -kv[1]))
    hub_cpu = sum(v for k, v in cpu.items() if k in ("web", "workers", "scheduler", "postgres"))
    load = f"paced {result['rate']:.0f}/s open loop" if result["rate"] else "closed loop"
    web = "x".join(map(str, layout["web"]))
    return (
        f"e2e [{load}, {result['senders']} senders] {layout['pool']} "
        f"{layout['workers']} worker process(es) x {layout['concurrency']}, web {web}: "
        f"{result['completed_per_s']:.1f} completed/s; due {result['due']}, sent "
        f"{result['sent']}, 202 {result['accepted']}, errors {result['errors']}, "
        f"statuses {result['statuses']}; 202 p99 {result['accept_p99_ms']:.0f} ms (from the "
        f"scheduled time); accepted->done p50 {result['p50_ms']:.0f} ms p99 "
        f"{result['p99_ms']:.0f} ms; scheduled->done p99 {result['due_p99_ms']:.0f} ms; "
        f"RSS web+workers+scheduler {result['rss_total_mb']} MB {result['rss_mb']}; "
        f"CPU ms/run: {cpu_text}; hub (web+workers+scheduler+postgres) {hub_cpu:.1f} "
        f"(machine busy {cpu['_machine_busy_pct']:.0f}%)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--senders", default="1,8,32")
    parser.add_argument("--rate", type=float, default=30, help="paced: webhooks/s in all")
    parser.add_argument("--setups", default="threads:1x8/web1x8,threads:2x8/web1x8")
    parser.add_argument("--modes", default="closed,paced", help="closed and/or paced")
    parser.add_argument("--find-rate", default="", help="rising paced rates, comma-separated")
    parser.add_argument("--no-overhead", action="store_true")
    parser.add_argument("--idle", type=float, default=30, help="seconds of idle CPU to read")
    args = parser.parse_args()

    fake_proc, fake = start_fake()
    try:
        setup_django()
        workspace = bench_workspace(fake)
        print(machine_line(), flush=True)
        if not args.no_overhead:
            figures = overhead(workspace)
            print(
                "engine overhead: {overhead_ms_per_step:.3f} ms/step "
                "(run of {steps_per_run} formatter steps: {run_ms_median:.1f} ms median; "
                "formatter itself {action_ms:.4f} ms)".format(**figures),
                flush=True,
            )
        recipe = webhook_recipe(workspace, fake)
        env = {**os.environ, **fake["settings"]}
        for setup in args.setups.split(","):
            layout = parse_layout(setup)
            stack = Stack(
                env, layout["workers"], layout["pool"], layout["concurrency"], layout["web"]
            )
            stack.start()
            try:
                if args.idle:
                    print(idle_cpu(stack, fake_proc.pid, layout, args.idle), flush=True)
                # Warm-up: imports, connections, the first compiled statements.
                end_to_end(stack, recipe, fake_proc.pid, 8, 20, 2)
                for senders in (int(s) for s in args.senders.split(",")):
                    for mode in args.modes.split(","):
                        rate = args.rate if mode == "paced" else None
                        result = end_to_end(
                            stack, recipe, fake_proc.pid, senders, rate, args.seconds
                        )
                        print(describe(layout, result), flush=True)
                if args.find_rate:
                    best = None
                    for rate in (float(r) for r in args.find_rate.split(",")):
                        result = end_to_end(stack, recipe, fake_proc.pid, 8, rate, args.seconds)
                        print(describe(layout, result), flush=True)
                        if result["due_p99_ms"] > 100 or result["errors"]:
                            break
                        best = rate
                    print(
                        f"highest paced rate with p99 scheduled->done <= 100 ms: {best}/s",
                        flush=True,
                    )
            finally:
                stack.stop()
        print(machine_line(), flush=True)
    finally:
        fake_proc.terminate()
        fake_proc.wait()


if __name__ == "__main__":
    main()
