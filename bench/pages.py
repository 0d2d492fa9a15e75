"""Pages over a million stored runs: figures, not assertions.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hub_bench_pages python bench/pages.py \
        [--runs 1000000] [--recipes 50] [--days 60] [--repeat 20] [--keep]

Fills a scratch PostgreSQL database (created if missing, migrated) with one workspace, 50
published recipes and ``--runs`` runs spread over ``--days`` days, each with two step rows
of realistic size (the Slack post's input and output), in one INSERT … SELECT over
generate_series per table. ``--keep`` reuses the rows of an earlier fill. Then, through
Django's test client in this process (server time: routing, queries, templates; no
network), each page ``--repeat`` times: p50/p95 ms and the queries it made. Last, the
retention prune of the oldest sixth of the runs: rows/s.
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
WHERE run.workspace_id = %(ws)s
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
    params = {"ws": workspace.pk, "runs": args.runs, "days": args.days, "recipes": args.recipes}
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


def measure(client, url: str, repeat: int, before=None) -> tuple[float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

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
    return statistics.median(times), p95, queries


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--recipes", type=int, default=50)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--no-prune", action="store_true", help="measure the pages only")
    args = parser.parse_args()
    ensure_database()

    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    from hub.engine import sweeper
    from hub.engine.models import RetentionPolicy, Run

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
        ("Dashboard", "/", cache.clear),
    ]
    print(f"{runs.count():,} runs in the workspace; {args.repeat} requests per page")
    print(f"{'page':30} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
    for name, url, before in pages:
        p50, p95, queries = measure(client, url, args.repeat, before)
        print(f"{name:30} {p50:8.1f} {p95:8.1f} {queries:8d}")

    if args.no_prune:
        return
    # Prune the oldest sixth: runs older than 50 of the 60 days.
    RetentionPolicy.objects.update_or_create(
        workspace=workspace, defaults={"days": args.days * 5 // 6}
    )
    start = time.perf_counter()
    deleted = sweeper.prune()
    took = time.perf_counter() - start
    print(
        f"retention prune: {deleted:,} runs (and their steps) in {took:.1f} s = "
        f"{deleted / took:,.0f} runs/s"
    )
    if not args.keep:
        print("(run again with --keep to reuse the filled rows)")


if __name__ == "__main__":
    main()
