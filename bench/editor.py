"""Recipe editor benchmark: server time of each editor interaction over the flagship build.

    python bench/editor.py [--builds 20]

Builds "important email -> ClickUp task -> Slack message" ``--builds`` times through the
editor's own endpoints (Django's test client, in this process, on a scratch SQLite database
under a temporary directory, against the Gmail, ClickUp and Slack fakes on 127.0.0.1), the
way journey 1 of the browser tests clicks it: new recipe, add step, choose app, choose
action, type values, Insert data, test, publish. Each request is timed from the client's call
to its answer, so the figure is the hub's own work (routing, sessions, the draft's row lock,
validation, rendering). Interactions that call an app (Test step, the live pickers) are
reported apart: their time includes the app's latency, which the target excludes.

Prints p50/p95/max per interaction kind and over all editor interactions, with the SQL
statements each kind makes (median), after the machine's load and calibration figure.
``--profile N`` runs the builds under cProfile and prints the N costliest functions.
Target: p95 ≤ 150 ms.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SCRATCH = Path(tempfile.mkdtemp(prefix="hub-editor-bench-"))
os.environ["DATABASE_URL"] = f"sqlite:///{SCRATCH / 'bench.sqlite3'}"
os.environ["HUB_VAR_DIR"] = str(SCRATCH)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")

TIMES: dict[str, list[float]] = defaultdict(list)
CPU: dict[str, list[float]] = defaultdict(list)
QUERIES: dict[str, list[int]] = defaultdict(list)
APP_CALLS = {"test step", "picker"}


class QueryCount:
    """Counts the statements the web requests run (a cheap execute wrapper, no logging)."""

    def __init__(self):
        self.n = 0

    def __call__(self, execute, sql, params, many, context):
        self.n += 1
        return execute(sql, params, many, context)


COUNT = QueryCount()


def timed(kind: str, call, *args, **kwargs):
    before = COUNT.n
    started, cpu = time.perf_counter(), time.process_time()
    response = call(*args, **kwargs)
    TIMES[kind].append((time.perf_counter() - started) * 1000)
    CPU[kind].append((time.process_time() - cpu) * 1000)
    QUERIES[kind].append(COUNT.n - before)
    assert response.status_code in (200, 302), (kind, response.status_code)
    return response


def build(client, fakes, n: int) -> None:
    from django.urls import reverse

    from hub.recipes.models import Recipe

    slack, _google, clickup = fakes
    timed("new recipe", client.post, reverse("recipe_new"))
    recipe = Recipe.objects.latest("pk")
    pk = recipe.pk
    timed("rename", client.post, reverse("editor_name", args=[pk]), {"name": f"Flagship {n}"})
    timed("open editor", client.get, reverse("editor", args=[pk]))
    steps = [
        ("gmail", "find_emails", {"config.query": "is:important"}),
        ("clickup", "create_task", {"config.list": clickup.list_id}),
        ("slack", "send_message", {"config.channel": slack.general}),
    ]
    for position, (app, action, first) in enumerate(steps):
        timed(
            "add step", client.post, reverse("editor_add_step", args=[pk]), {"position": position}
        )
        step_url = reverse("editor_step", args=[pk, "step"])
        timed("choose app", client.post, step_url, {"app": app})
        timed("choose action", client.post, step_url, {"app": app, "action": action})
        url = reverse("editor_step", args=[pk, action])
        form = {"app": app, "action": action, **first}
        timed("type a value", client.post, url, form)
        if action == "create_task":
            timed(
                "insert data list",
                client.get,
                reverse("editor_data", args=[pk]) + "?before=create_task",
            )
            form["config.name"] = "{{ steps.find_emails.emails.0.subject }}"
            timed("type a value", client.post, url, form)
        if action == "send_message":
            connection = Recipe.objects.get(pk=pk).draft["steps"][2]["connection_id"]
            picker = reverse("recipe_choices") + "?app=slack&action=send_message&field=channel"
            picker += f"&connection={connection}"
            timed("picker", client.get, picker + "&refresh=1")
            form["config.text"] = "New task: {{ steps.create_task.url }}"
            timed("type a value", client.post, url, form)
        timed("test step", client.post, reverse("editor_test_step", args=[pk, action]))
    timed(
        "move step",
        client.post,
        reverse("editor_move_step", args=[pk, "send_message"]),
        {"direction": "up"},
    )
    timed(
        "move step",
        client.post,
        reverse("editor_move_step", args=[pk, "send_message"]),
        {"direction": "down"},
    )
    timed("publish", client.post, reverse("editor_publish", args=[pk]))
    assert Recipe.objects.get(pk=pk).current_version is not None, "the build did not publish"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--builds", type=int, default=20)
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    args = parser.parse_args()
    from bench.common import header

    print(header("editor: the flagship build through the editor's endpoints"), flush=True)

    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    call_command("migrate", verbosity=0)
    from django.conf import settings

    from hub.accounts.models import Membership, User, Workspace
    from hub.connections.models import Connection
    from tests.fakes.clickup import FakeClickUp
    from tests.fakes.gmail import FakeGoogle
    from tests.fakes.slack import FakeSlack

    with FakeSlack() as slack, FakeGoogle() as google, FakeClickUp() as clickup:
        for fake in (slack, google, clickup):
            for key, value in fake.settings().items():
                setattr(settings, key, value)
        slack.general = slack.add_channel("general")
        clickup.list_id = clickup.add_list("Inbox", space_id=clickup.add_space("Ops"))
        google.deliver("ceo@acme.test", subject="Quarterly report", body="Please review")
        workspace = Workspace.objects.create(name="Bench")
        user = User.objects.create_user("bench@acme.test", "bench password 1")
        Membership.objects.create(workspace=workspace, user=user, role=Membership.Role.MEMBER)
        for app, label, token in (
            ("slack", "Slack", slack.issue_token()),
            ("gmail", "Gmail", google.issue_token()),
            ("clickup", "ClickUp", clickup.issue_token()),
        ):
            connection = Connection(workspace=workspace, integration=app, label=label)
            connection.set_tokens(token, None, None)
            connection.save()
        client = Client()
        client.force_login(user)
        from django.db import connection as db

        db.ensure_connection()
        db.execute_wrappers.append(COUNT)
        build(client, (slack, google, clickup), 0)  # warm-up: imports, template cache
        TIMES.clear()
        CPU.clear()
        QUERIES.clear()
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        for n in range(1, args.builds + 1):
            build(client, (slack, google, clickup), n)
        if profiler:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.profile)

    print(f"cores {os.cpu_count()}, load {os.getloadavg()[0]:.2f}; {args.builds} flagship builds")
    # CPU: the process's own CPU time per request (p95), which a loaded machine's waiting
    # for a core does not inflate as it does the wall-clock figures.
    print(
        f"{'interaction':<18}{'count':>7}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"
        f"{'CPU p95':>9}{'SQL':>6}"
    )
    editor, editor_cpu = [], []
    for kind, values in TIMES.items():
        if kind not in APP_CALLS:
            editor += values
            editor_cpu += CPU[kind]
        print(
            f"{kind:<18}{len(values):>7}{statistics.median(values):>9.1f}"
            f"{percentile(values, 0.95):>9.1f}{max(values):>9.1f}"
            f"{percentile(CPU[kind], 0.95):>9.1f}{statistics.median(QUERIES[kind]):>6.0f}"
            + ("   (includes the app's latency)" if kind in APP_CALLS else "")
        )
    p95 = percentile(editor, 0.95)
    print(
        f"{'all editor':<18}{len(editor):>7}{statistics.median(editor):>9.1f}"
        f"{p95:>9.1f}{max(editor):>9.1f}{percentile(editor_cpu, 0.95):>9.1f}"
    )
    print(f"p95 server time per editor interaction: {p95:.1f} ms (target ≤ 150 ms)")


if __name__ == "__main__":
    main()
