"""ClickUp pickers over a big Workspace: figures, not assertions.

    python bench/clickup_pickers.py [--lists 5000] [--spaces 50]

Seeds the ClickUp fake with ``--lists`` lists directly in one Space, and the same number
spread over ``--spaces`` Spaces (in folders), then asks the pickers as the editor would
(through the providers, against the fake over real sockets) and prints, for each question,
the app calls it spent, the choices it answered and the wall time. Also walks the whole
Workspace-wide list picker page by page, and searches it for a name in the last Space.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
os.environ.setdefault("HUB_VAR_DIR", str(ROOT / "var" / "bench"))
# The fake is the only ClickUp here: the hub's own 100 requests/minute would measure the limiter.
os.environ.setdefault("RATE_LIMIT_CLICKUP", "1000000/minute")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lists", type=int, default=5000)
    parser.add_argument("--spaces", type=int, default=50)
    args = parser.parse_args()

    import logging

    import django

    django.setup()
    logging.getLogger("hub.http").setLevel(logging.WARNING)
    from django.conf import settings

    from integrations import registry
    from integrations.base import Context
    from integrations.clickup import hierarchy
    from tests.fakes.clickup import FakeClickUp

    with FakeClickUp() as fake:
        settings.CLICKUP_API_URL = fake.base_url
        big = fake.add_space("Clients")
        for n in range(args.lists):
            fake.add_list(f"Client {n:05d}", space_id=big)
        per_space = max(1, args.lists // args.spaces)
        for s in range(args.spaces):
            space = fake.add_space(f"Region {s:03d}")
            folder = fake.add_folder(space, "Accounts")
            for n in range(per_space):
                fake.add_list(f"Account {s:03d}-{n:04d}", space_id=space, folder_id=folder)
        token = fake.issue_token()
        connection = SimpleNamespace(pk=1, label="bench", fresh_token=lambda: token)

        from django.core.cache import cache

        def ask(provider, config, search="", page=None, cold=False):
            if cold:
                cache.clear()
            ctx = Context(
                workspace_id=1,
                config=config,
                connection=connection,
                integration=registry.get("clickup"),
            )
            fake.log.clear()
            started = time.perf_counter()
            answer = provider(ctx, search, page)
            return answer, len(fake.log), (time.perf_counter() - started) * 1000

        print(f"{args.lists} lists in one Space; {per_space * args.spaces} in {args.spaces} Spaces")
        one_space = {"space": big, "folder": "none"}
        for label, search, page in (
            ("first page (cold)", "", None),
            ("page 25", "", "2400"),
            ("search 'client 04999'", "client 04999", None),
        ):
            cold = label.endswith("(cold)")
            answer, calls, ms = ask(hierarchy.list_choices, one_space, search, page, cold)
            print(
                f"  list picker, {label}: {len(answer.choices)} choices, {calls} app call(s), "
                f"{ms:.0f} ms, next={answer.next_page}"
            )

        team = {"workspace": fake.team_id}
        cache.clear()
        page, requests, total, calls_total, worst = None, 0, 0, 0, 0
        started = time.perf_counter()
        while True:
            answer, calls, ms = ask(hierarchy.workspace_list_choices, team, "", page)
            requests += 1
            total += len(answer.choices)
            calls_total += calls
            worst = max(worst, calls)
            page = answer.next_page
            if not page:
                break
        walk = (time.perf_counter() - started) * 1000
        print(
            f"  Workspace list picker, every page: {requests} requests, {total} choices, "
            f"{calls_total} app calls (at most {worst} a request), {walk:.0f} ms in all"
        )
        needle = f"Account {args.spaces - 1:03d}-0000"
        cache.clear()
        page, requests, found = None, 0, []
        while True:
            answer, calls, ms = ask(hierarchy.workspace_list_choices, team, needle, page)
            requests += 1
            found += [c.label for c in answer.choices]
            page = answer.next_page
            if found or not page:
                break
        print(f"  Workspace list picker, search in the last Space: found after {requests} requests")


if __name__ == "__main__":
    main()
