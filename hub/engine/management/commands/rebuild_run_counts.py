"""``manage.py rebuild_run_counts [--workspace SLUG] [--days 14]``: forget the run counts
Home keeps per quarter hour (``hub.engine.run_counts``) and count them again from the runs.

They stay true by themselves (the prune and deleting a recipe forget what they remove); this
is for runs deleted another way (the Django admin, SQL) and to count the days before an
upgrade ahead of the first visit."""

from __future__ import annotations

from datetime import UTC, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from hub.accounts.models import Workspace
from hub.engine import run_counts


class Command(BaseCommand):
    help = "Count again the runs per quarter hour that Home's runs-per-day chart reads."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", help="one workspace's slug (default: every one)")
        parser.add_argument("--days", type=int, default=14, help="days to count (default 14)")

    def handle(self, *args, **options):
        if options["days"] < 1:
            raise CommandError("--days must be 1 or more.")
        workspaces = Workspace.objects.order_by("slug")
        if options["workspace"]:
            workspaces = workspaces.filter(slug=options["workspace"])
            if not workspaces.exists():
                raise CommandError(f"No workspace has the slug “{options['workspace']}”.")
        today = timezone.now().astimezone(UTC).date()
        first = today - timedelta(days=options["days"] - 1)
        for workspace in workspaces:
            run_counts.forget(workspace.pk)
            days = run_counts.per_day(workspace.pk, UTC, first, today)
            total = sum(counts.total for counts in days.values())
            self.stdout.write(
                f"{workspace.slug}: {total:,} runs in the last {options['days']} days counted"
            )
