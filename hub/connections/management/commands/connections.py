"""Connections for operators and CI.

manage.py connections add-key APP --label LABEL --key-env VAR [--base-url URL] [--workspace SLUG]
manage.py connections list [--workspace SLUG]

The key is read from the environment variable named by ``--key-env``, never from the command
line (which other users of the machine and the shell history can see).
"""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand, CommandError

from hub.accounts.models import Workspace
from hub.connections import api_keys
from hub.connections.models import Connection


def workspace_named(slug: str | None) -> Workspace:
    if slug:
        try:
            return Workspace.objects.get(slug=slug)
        except Workspace.DoesNotExist:
            raise CommandError(f"There is no workspace “{slug}”.") from None
    workspaces = list(Workspace.objects.all()[:2])
    if len(workspaces) == 1:
        return workspaces[0]
    if not workspaces:
        raise CommandError("There is no workspace yet; run `manage.py bootstrap` first.")
    raise CommandError("There are several workspaces: choose one with --workspace SLUG.")


class Command(BaseCommand):
    help = "Add API-key connections and list connections."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="command", required=True)
        add = sub.add_parser("add-key", help="Add an API-key connection (an AI provider).")
        add.add_argument("app", help="openai, anthropic, gemini or openai_compatible")
        add.add_argument("--label", required=True, help="The name recipes use for it.")
        add.add_argument(
            "--key-env",
            required=True,
            metavar="VAR",
            help="The environment variable holding the key (empty for a keyless server).",
        )
        add.add_argument(
            "--base-url", default="", help="The provider's base URL, if not the default."
        )
        add.add_argument("--workspace", help="Workspace slug (optional with one workspace).")
        add.add_argument(
            "--no-check", action="store_true", help="Save without asking the provider first."
        )
        listing = sub.add_parser("list", help="List the workspace's connections.")
        listing.add_argument("--workspace")

    def handle(self, *args, **options):
        if options["command"] == "add-key":
            return self.add_key(options)
        return self.list(options)

    def add_key(self, options):
        workspace = workspace_named(options.get("workspace"))
        var = options["key_env"]
        if var not in os.environ:
            raise CommandError(f"The environment variable {var} is not set; export the key in it.")
        try:
            conn = api_keys.add_key(
                workspace,
                options["app"],
                options["label"],
                os.environ[var],
                base_url=options["base_url"],
                check=not options["no_check"],
            )
        except api_keys.KeyProblem as problem:
            raise CommandError(str(problem)) from None
        models = [m["id"] for m in conn.details.get("available") or []]
        listed = f": {', '.join(models)}" if models else ""
        self.stdout.write(
            f"Added {conn.app.name} connection “{conn.label}” to {workspace} "
            f"({len(models)} models{listed})."
        )

    def list(self, options):
        workspace = workspace_named(options.get("workspace"))
        rows = Connection.objects.for_workspace(workspace).order_by("integration", "label")
        for conn in rows:
            extra = ""
            if conn.kind == Connection.Kind.API_KEY:
                allowed = conn.details.get("allowed") or []
                available = conn.details.get("available") or []
                extra = f"  models: {len(allowed) or len(available)}"
                if allowed:
                    extra += " allowed"
            self.stdout.write(
                f"{conn.pk}\t{conn.integration}\t{conn.label}\t{conn.kind}\t{conn.status}{extra}"
            )
        if not rows:
            self.stdout.write(f"{workspace} has no connections.")
