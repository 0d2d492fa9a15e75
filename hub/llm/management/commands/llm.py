"""AI usage for operators and CI.

manage.py llm usage [--since DATE] [--json] [--workspace SLUG]
    calls, tokens by kind, cost, calls with an unknown price, and the budgets' state, per
    workspace.
manage.py llm recompute [--since DATE] [--workspace SLUG]
    price past calls again with today's price table (costs are otherwise never rewritten).
"""

from __future__ import annotations

import json
from datetime import date, datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from hub.accounts.models import Workspace
from hub.llm import prices, report
from hub.llm.models import LLMCall


def since_of(text: str | None):
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--since takes a date like 2026-12-01, not “{text}”.") from None
    return timezone.make_aware(datetime.combine(day, time.min))


class Command(BaseCommand):
    help = "Report AI usage and cost; recompute costs with today's prices."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="command", required=True)
        usage = sub.add_parser("usage", help="Calls, tokens, cost and budgets per workspace.")
        usage.add_argument("--since", help="Only calls from this date (YYYY-MM-DD).")
        usage.add_argument("--json", action="store_true", help="Print JSON.")
        usage.add_argument("--workspace")
        again = sub.add_parser("recompute", help="Price past calls again with today's table.")
        again.add_argument("--since")
        again.add_argument("--workspace")

    def workspaces(self, slug):
        rows = Workspace.objects.order_by("name")
        if slug:
            rows = rows.filter(slug=slug)
            if not rows:
                raise CommandError(f"There is no workspace “{slug}”.")
        return rows

    def calls(self, workspace, since):
        calls = LLMCall.objects.filter(workspace=workspace)
        return calls.filter(created_at__gte=since) if since else calls

    def handle(self, *args, **options):
        since = since_of(options.get("since"))
        if options["command"] == "recompute":
            for workspace in self.workspaces(options.get("workspace")):
                changed = prices.recompute(self.calls(workspace, since))
                self.stdout.write(f"{workspace.slug}: {changed} costs changed")
            return
        out = []
        for workspace in self.workspaces(options.get("workspace")):
            totals = report.summary(self.calls(workspace, since))
            out.append(
                {
                    "workspace": workspace.slug,
                    "calls": totals["calls"],
                    "failed": totals["failed"],
                    "tokens": totals["tokens"],
                    "cost_usd": str(totals["cost"]),
                    "unknown_price_calls": totals["unknown_price_calls"],
                    "budgets": [
                        {
                            "recipe": b["budget"].recipe.name if b["budget"].recipe else None,
                            "month": b["month"].strftime("%Y-%m"),
                            "limit_usd": str(b["limit"]),
                            "spent_usd": str(b["spent"]),
                            "percent": b["percent"],
                            "reached": b["reached"],
                            "on_reach": b["budget"].on_reach,
                        }
                        for b in report.budget_states(workspace)
                    ],
                }
            )
        if options["json"]:
            self.stdout.write(json.dumps(out, indent=2))
            return
        for row in out:
            t = row["tokens"]
            self.stdout.write(
                f"{row['workspace']}: {row['calls']} calls ({row['failed']} failed), "
                f"${row['cost_usd']}, {row['unknown_price_calls']} with unknown price; tokens "
                f"input {t['input_uncached']}, cache read {t['cache_read']}, cache write "
                f"{t['cache_write']}, output {t['output']} (reasoning {t['reasoning']})"
            )
            for b in row["budgets"]:
                scope = b["recipe"] or "workspace"
                state = "REACHED" if b["reached"] else "ok"
                self.stdout.write(
                    f"  budget {scope} {b['month']}: ${b['spent_usd']} of ${b['limit_usd']} "
                    f"({b['percent']}%) {state}"
                )
