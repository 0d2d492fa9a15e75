"""Notion row-trigger polls against the Notion fake: figures, not assertions.

    python bench/notion_polls.py [--rows 2000] [--limit 100]

A burst of ``--rows`` rows added to one database in the same minute (Notion's timestamps are
minute-truncated, so they all share one), then polled the way the hub polls — ``--limit``
items a poll, the cursor and the fired ids carried from poll to poll — until nothing is
left. Prints, for the new-row and the changed-row trigger: polls, Notion queries, rows read,
rows fired (and that none fired twice), wall time and rows fired per second, and the size of
the cursor the hub stores. No database is needed: the polls are called directly with a
connection that holds a token of the fake. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")


class TokenConnection:
    """The ``Connection`` protocol, holding a token the fake issued."""

    pk = 1
    label = "Bench Notion"
    refresh_token = ""

    def __init__(self, token: str) -> None:
        self.access_token = token

    def fresh_token(self) -> str:
        return self.access_token

    def client_credentials(self):
        return None


def measure(key, fake, conn, ds_id, rows, limit, change=None):
    from integrations import registry
    from integrations.base import Context, PollRequest

    notion = registry.get("notion")
    trigger = notion.trigger(key)
    config = {"database": ds_id}
    if key == "updated_database_item":
        config["properties"] = ["Stage"]
    ctx = Context(workspace_id=1, config=config, connection=conn, integration=notion)
    cursor = trigger.poll(ctx, PollRequest(mode="seed")).cursor
    if change is not None:
        change()
    fake.log.clear()
    seen: set[str] = set()
    fired: list[str] = []
    polls = 0
    started = time.perf_counter()
    while True:
        result = trigger.poll(ctx, PollRequest(cursor, limit, frozenset(seen), "poll"))
        polls += 1
        cursor = result.cursor
        seen |= {i.id for i in result.items}
        fired += [i.id for i in result.items]
        if not result.more:
            break
    elapsed = time.perf_counter() - started
    queries = fake.calls("data_sources.query")
    return {
        "trigger": key,
        "rows": rows,
        "polls": polls,
        "queries": len(queries),
        "fired": len(fired),
        "fired twice": len(fired) - len(set(fired)),
        "seconds": round(elapsed, 2),
        "rows fired/s": round(len(fired) / elapsed) if elapsed else 0,
        "cursor bytes": len(json.dumps(cursor)),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--limit", type=int, default=100)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings

    from tests.fakes.notion import FakeNotion

    with FakeNotion() as fake:
        for name, value in fake.settings().items():
            setattr(settings, name, value)
        conn = TokenConnection(fake.issue_token())
        _db, ds_id = fake.add_database("Burst", {"Name": "title", "Stage": ("status", ["A", "B"])})
        print(f"cores: {os.cpu_count()}  load: {os.getloadavg()[0]:.2f}")
        print(f"{args.rows} rows in one minute, {args.limit} items a poll")

        def burst() -> None:
            for i in range(args.rows):
                fake.add_page(ds_id, f"row {i}", {"Stage": {"status": {"name": "A"}}})

        def restage() -> None:
            with fake.lock:
                for page in fake.pages.values():
                    page["properties"]["Stage"]["status"] = {
                        "id": "b",
                        "name": "B",
                        "color": "default",
                    }
                    page["last_edited_time"] = fake.page_stamp()

        figures = [
            measure("new_database_item", fake, conn, ds_id, args.rows, args.limit, burst),
            measure("updated_database_item", fake, conn, ds_id, args.rows, args.limit, restage),
        ]
        for row in figures:
            print("  ".join(f"{k}: {v}" for k, v in row.items()))


if __name__ == "__main__":
    main()
