"""Pages over a million stored runs, and the retention prune beside a working worker:
figures, not assertions.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hub_bench_pages \
    CELERY_BROKER_URL=redis://127.0.0.1:6379/4 python bench/pages.py \
        [--runs 1000000] [--recipes 50] [--days 60] [--repeat 20] [--keep] \
        [--prune-runs N] [--load-rate 20] [--window 15] [--no-prune]

1. Fills a scratch PostgreSQL database (created if missing, migrated) with one workspace,
   50 published recipes and ``--runs`` runs spread over ``--days`` days, each with two step
   rows of realistic size (the Slack post's input and output), in one INSERT … SELECT over
   generate_series per table. ``--keep`` reuses the rows of an earlier fill.
2. Through Django's test client in this process (server time: routing, queries, templates;
   no network), each page ``--repeat`` times: p50/p95 ms and the queries it made. Home's
   kept quarter-hour counts (hub.engine.run_counts) are made once before, as the first
   visit after an upgrade makes them; that first visit is timed on its own.
3. The prune: ``--prune-runs`` more runs (a sixth of ``--runs`` unless given), with their
   steps, dated before the retention (``--days`` + 1), so the million stays for the next
   sitting. The Procfile's web and one worker (bench/stack.py) run webhook → formatter →
   Slack fake at ``--load-rate``/s, open loop: ``--window`` seconds without the prune, then
   windows of that length while the prune runs in its own process. Each window: completed
   runs/s and accepted → done p50/p99; the prune: rows/s and its longest transaction (each
   batch is one).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")

from bench.common import ensure_database, header  # noqa: E402

RUN_SQL = """
INSERT INTO engine_run (workspace_id, recipe_id, version_id, source, trigger_data, dedupe_key,
    status, error, error_message, failed_step, cancel_requested, lease_owner, created_at,
    started_at, finished_at)
SELECT %(ws)s, r.recipe_id, r.version_id, 'webhook',
    jsonb_build_object('name', 'Lead ' || g, 'email', 'lead' || g || '@example.com'),
    'bench:' || g,
    CASE WHEN g %% 20 = 0 THEN 'failed' WHEN g %% 97 = 0 THEN 'filtered' ELSE 'succeeded' END,
    CASE WHEN g %% 20 = 0 THEN 'Slack answered channel_not_found.' ELSE '' END, NULL,
    CASE WHEN g %% 20 = 0 THEN 'notify' ELSE '' END, false, '',
    t.at, t.at + interval '5 ms', t.at + interval '60 ms'
FROM generate_series(1, %(runs)s) AS g
CROSS JOIN LATERAL (SELECT now() - (%(days)s * interval '1 day') * (1 - g::float / %(runs)s)
    AS at) AS t
JOIN (SELECT row_number() OVER (ORDER BY id) - 1 AS n, id AS recipe_id, current_version_id
      AS version_id FROM recipes_recipe WHERE workspace_id = %(ws)s) AS r
  ON r.n = g %% %(recipes)s
"""

# Runs the prune is to delete: created between --days + 12 and --days + 2 days ago.
OLD_RUN_SQL = RUN_SQL.replace("'bench:' || g", "'bench-old:' || g").replace(
    "now() - (%(days)s * interval '1 day') * (1 - g::float / %(runs)s)",
    "now() - interval '1 day' * (%(days)s + 2 + 10 * (1 - g::float / %(runs)s))",
)

STEP_SQL = """
INSERT INTO engine_steprun (run_id, key, position, app, action, attempt, status, input, output,
    output_truncated, error, started_at, finished_at, duration_ms)
SELECT run.id, s.key, s.position, s.app, s.action, 1,
    CASE WHEN s.position = 1 AND run.status = 'failed' THEN 'failed' ELSE 'succeeded' END,
    jsonb_build_object('channel', 'C0123456', 'text',
        'New lead: ' || (run.trigger_data->>'name') || repeat(' details', 20)),
    jsonb_build_object('ts', '1733050000.000' || run.id, 'channel', 'C0123456'),
    false, '', run.started_at, run.finished_at, 25
FROM engine_run AS run
CROSS JOIN (VALUES ('shape', 0, 'builtin', 'formatter'), ('notify', 1, 'slack',
    'send_message')) AS s(key, position, app, action)
WHERE run.workspace_id = %(ws)s AND run.dedupe_key LIKE %(prefix)s
"""


def fill(args):
    from django.db import connection

    from hub.accounts.models import Membership, User, Workspace
    from hub.engine.models import Run
    from hub.recipes.services import import_recipe

    workspace, _ = Workspace.objects.get_or_create(slug="bench-pages", defaults={"name": "Bench"})
    user = User.objects.filter(email="bench@example.com").first() or User.objects.create_user(
        email="bench@example.com", password=None
    )
    Membership.objects.get_or_create(
        workspace=workspace, user=user, defaults={"role": Membership.Role.ADMIN}
    )
    if args.keep and Run.objects.filter(workspace=workspace).count() >= args.runs:
        return workspace, user
    Run.objects.filter(workspace=workspace).delete()
    for i in range(args.recipes - workspace.recipes.count()):
        import_recipe(
            workspace,
            {
                "format": "toolstack.recipe/1",
                "name": f"Recipe {i:02d} {time.time_ns()}",
                "trigger": {"app": "webhook", "event": "catch"},
                "steps": [
                    {
                        "key": "shape",
                        "app": "builtin",
                        "action": "formatter",
                        "config": {"operation": "text_upper", "input": "{{ trigger.name }}"},
                    },
                ],
            },
            publish=True,
        )
    params = {
        "ws": workspace.pk,
        "runs": args.runs,
        "days": args.days,
        "recipes": args.recipes,
        "prefix": "bench:%",
    }
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(RUN_SQL, params)
        cursor.execute(STEP_SQL, params)
        cursor.execute("ANALYZE engine_run")
        cursor.execute("ANALYZE engine_steprun")
    print(
        f"filled {args.runs:,} runs and {2 * args.runs:,} steps in "
        f"{time.perf_counter() - start:.0f} s"
    )
    return workspace, user


def measure(client, url: str, repeat: int, before=None) -> tuple[float, float, int, float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # The first request of a page in a process imports what it uses (the recipe page loads
    # every integration's SDK: seconds on a busy machine): a one-off, printed on its own.
    start = time.perf_counter()
    client.get(url)
    first = (time.perf_counter() - start) * 1000
    times, queries = [], 0
    for _ in range(repeat):
        if before:
            before()
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(captured)
    times.sort()
    p95 = times[max(0, round(0.95 * len(times)) - 1)]
    return statistics.median(times), p95, queries, first


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--recipes", type=int, default=50)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--no-prune", action="store_true", help="measure the pages only")
    parser.add_argument("--prune-runs", type=int, default=0, help="default: a sixth of --runs")
    parser.add_argument("--load-rate", type=float, default=20, help="webhooks/s during the prune")
    parser.add_argument("--window", type=float, default=15, help="seconds per load window")
    args = parser.parse_args()
    ensure_database()

    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    from hub.engine import run_counts
    from hub.engine.models import Run

    print(header("pages over stored runs"))
    call_command("migrate", verbosity=0)
    workspace, user = fill(args)
    setup_test_environment()
    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(user)
    runs = Run.objects.filter(workspace=workspace)
    recipe_id = runs.values_list("recipe_id", flat=True).first()
    middle = runs.order_by("created_at")[args.runs // 2]
    deep = f"{middle.created_at.isoformat()}_{middle.pk}"
    failed = runs.filter(status="failed").order_by("-created_at").values_list("pk", flat=True)[0]
    since = (middle.created_at.date()).isoformat()
    pages = [
        ("Runs, newest", "/runs/", None),
        ("Runs, failed", "/runs/?status=failed", None),
        ("Runs, one recipe", f"/runs/?recipe={recipe_id}", None),
        ("Runs, one day", f"/runs/?since={since}&until={since}", None),
        ("Runs, page at the middle", f"/runs/?after={deep.replace('+', '%2B')}", None),
        ("Runs, failed of one recipe", f"/runs/?recipe={recipe_id}&status=failed", None),
        ("Run page", f"/runs/{failed}/", None),
        ("Recipe page", f"/recipes/{recipe_id}/", None),
        ("Recipes list", "/recipes/", None),
        ("Dashboard", "/", None),
    ]
    print(f"{runs.count():,} runs in the workspace; {args.repeat} requests per page")
    run_counts.forget(workspace.pk)
    start = time.perf_counter()
    client.get("/")
    print(
        "Dashboard, first visit (counts two weeks of runs and keeps the quarter hours): "
        f"{(time.perf_counter() - start) * 1000:.0f} ms"
    )
    print(f"{'page':30} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} {'first ms':>9}")
    for name, url, before in pages:
        p50, p95, queries, first = measure(client, url, args.repeat, before)
        print(f"{name:30} {p50:8.1f} {p95:8.1f} {queries:8d} {first:9.0f}")

    if args.no_prune:
        return
    prune_beside_a_worker(args, workspace)


def add_old_runs(workspace, args) -> int:
    """Runs (and steps) dated before the retention, for the prune to delete."""
    from django.db import connection

    count = args.prune_runs or args.runs // 6
    params = {
        "ws": workspace.pk,
        "runs": count,
        "days": args.days,
        "recipes": args.recipes,
        "prefix": "bench-old:%",
    }
    with connection.cursor() as cursor:
        # What an interrupted sitting left.
        cursor.execute(
            "DELETE FROM engine_steprun WHERE run_id IN (SELECT id FROM engine_run "
            "WHERE workspace_id = %(ws)s AND dedupe_key LIKE %(prefix)s)",
            params,
        )
        cursor.execute(
            "DELETE FROM engine_run WHERE workspace_id = %(ws)s AND dedupe_key LIKE %(prefix)s",
            params,
        )
        cursor.execute(OLD_RUN_SQL, params)
        cursor.execute(STEP_SQL, params)
        cursor.execute("VACUUM ANALYZE engine_run")
        cursor.execute("VACUUM ANALYZE engine_steprun")
    return count


PRUNE_CHILD = """
import json, os, sys, time
sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
import django
django.setup()
from contextlib import contextmanager
from django.db import transaction
from hub.engine import sweeper
real, longest = transaction.atomic, [0.0]

@contextmanager
def timed(*args, **kwargs):
    start = time.perf_counter()
    with real(*args, **kwargs):
        yield
    longest[0] = max(longest[0], time.perf_counter() - start)

sweeper.transaction.atomic = timed
start = time.perf_counter()
deleted = sweeper.prune()
print(json.dumps({"deleted": deleted, "seconds": time.perf_counter() - start,
                  "longest_ms": longest[0] * 1000}))
"""


class LockWaits:
    """Samples pg_stat_activity for connections to this database waiting on a lock, other
    than the prune's own: whether the prune ever made the web or a worker wait."""

    def __init__(self):
        import threading

        self.samples, self.waiting, self.queries = 0, 0, set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        import psycopg
        from django.db import connection

        config = connection.settings_dict
        with psycopg.connect(
            host=config["HOST"],
            port=config["PORT"] or 5432,
            user=config["USER"],
            dbname=config["NAME"],
            autocommit=True,
        ) as conn:
            while not self._stop.is_set():
                rows = conn.execute(
                    "SELECT left(query, 80) FROM pg_stat_activity WHERE datname = %s "
                    "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid() "
                    "AND application_name <> 'prune'",
                    (config["NAME"],),
                ).fetchall()
                self.samples += 1
                if rows:
                    self.waiting += 1
                    self.queries.update(row[0] for row in rows)
                self._stop.wait(0.1)


def prune_beside_a_worker(args, workspace) -> None:
    import json
    import subprocess

    from bench.engine import Stack, bench_workspace, end_to_end, start_fake, webhook_recipe
    from hub.engine.models import RetentionPolicy

    added = add_old_runs(workspace, args)
    RetentionPolicy.objects.update_or_create(workspace=workspace, defaults={"days": args.days + 1})
    print(f"added {added:,} runs (and {2 * added:,} steps) older than the retention")
    fake_proc, fake = start_fake()
    stack = None
    try:
        recipe = webhook_recipe(bench_workspace(fake), fake)
        # The fake has no rate limit, and Slack's own (chat.postMessage 1/s, which the hub
        # keeps) would make this a measure of waiting for it.
        env = {**os.environ, **fake["settings"], "RATE_LIMIT_SLACK_CHAT_POSTMESSAGE": "1000/second"}
        stack = Stack(env, 1, "threads", 8, (1, 8)).start()
        end_to_end(stack, recipe, fake_proc.pid, 8, args.load_rate, 3)  # warm-up

        def line(label: str, r: dict) -> str:
            return (
                f"{label:28} {r['completed_per_s']:6.1f} runs/s done of {r['accepted']} "
                f"accepted ({r['due']} due), accepted -> done p50 {r['p50_ms']:.0f} ms, "
                f"p99 {r['p99_ms']:.0f} ms"
            )

        print(
            f"worker (1 process, 8 threads) under {args.load_rate:g} webhooks/s, "
            f"{args.window:g} s windows:"
        )
        result = end_to_end(stack, recipe, fake_proc.pid, 8, args.load_rate, args.window)
        print(line("  without the prune", result), flush=True)
        prune = subprocess.Popen(  # noqa: S603 (our own code)
            [sys.executable, "-c", PRUNE_CHILD],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PGAPPNAME": "prune"},  # its connections, told apart
        )
        waits = LockWaits()
        waits.start()
        window = 0
        while prune.poll() is None:
            window += 1
            result = end_to_end(stack, recipe, fake_proc.pid, 8, args.load_rate, args.window)
            print(line(f"  during the prune, window {window}", result), flush=True)
        waits.stop()
        figures = json.loads(prune.stdout.read())
        print(
            f"retention prune: {figures['deleted']:,} runs (and their steps) in "
            f"{figures['seconds']:.1f} s = {figures['deleted'] / figures['seconds']:,.0f} runs/s; "
            f"longest transaction {figures['longest_ms']:.0f} ms"
        )
        print(
            f"lock waits of the database's other connections (web, worker) during the prune, "
            f"sampled every 0.1 s: {waits.waiting} of {waits.samples} samples"
            + (f"; waiting on: {'; '.join(sorted(waits.queries)[:5])}" if waits.queries else "")
        )
        result = end_to_end(stack, recipe, fake_proc.pid, 8, args.load_rate, args.window)
        print(line("  after the prune", result), flush=True)
    finally:
        if stack is not None:
            stack.stop()
        fake_proc.terminate()
        fake_proc.wait()


if __name__ == "__main__":
    main()
