"""Recipes on the command line: ``import``, ``export`` and ``run``.

manage.py recipes import FILE [--workspace SLUG] [--publish] [--replace]
manage.py recipes export NAME [--workspace SLUG]
manage.py recipes run NAME [--workspace SLUG] [--data JSON] [--wait] [--timeout S]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from hub.accounts.models import Workspace
from hub.engine.intake import parse_data
from hub.engine.models import Run
from hub.engine.runs import RunError, start_run
from hub.recipes import format as recipe_format
from hub.recipes.format import RecipeFormatError
from hub.recipes.models import Recipe
from hub.recipes.services import export_recipe, import_recipe


class Command(BaseCommand):
    help = "Import, export and run recipes."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="command", required=True)
        imp = sub.add_parser("import", help="Import a toolstack.recipe/1 file.")
        imp.add_argument("file", help="Path to the JSON file, or - for standard input.")
        imp.add_argument("--workspace", help="Workspace slug (optional with one workspace).")
        imp.add_argument("--publish", action="store_true", help="Publish after importing.")
        imp.add_argument(
            "--replace",
            action="store_true",
            help="Replace the draft of the recipe with the same name (else import a new one).",
        )
        exp = sub.add_parser("export", help="Print a recipe as a toolstack.recipe/1 file.")
        exp.add_argument("name")
        exp.add_argument("--workspace")
        run = sub.add_parser("run", help="Run a published recipe now.")
        run.add_argument("name")
        run.add_argument("--workspace")
        run.add_argument("--data", default="{}", help="Trigger data as JSON.")
        run.add_argument("--wait", action="store_true", help="Wait for the run to finish.")
        run.add_argument("--timeout", type=float, default=120.0)

    def handle(self, *args, **options):
        handler = getattr(self, f"do_{options['command']}")
        return handler(options)

    def workspace(self, slug: str | None) -> Workspace:
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

    def recipe(self, options) -> Recipe:
        workspace = self.workspace(options.get("workspace"))
        try:
            return Recipe.objects.get(workspace=workspace, name=options["name"])
        except Recipe.DoesNotExist:
            raise CommandError(f"There is no recipe “{options['name']}” in {workspace}.") from None

    def do_import(self, options):
        workspace = self.workspace(options.get("workspace"))
        try:
            text = sys.stdin.read() if options["file"] == "-" else Path(options["file"]).read_text()
            document = recipe_format.parse(text)
        except OSError as error:
            raise CommandError(f"Cannot read {options['file']}: {error.strerror}") from None
        except RecipeFormatError as error:
            raise CommandError(str(error)) from None
        try:
            recipe, problems = import_recipe(
                workspace, document, publish=options["publish"], replace=options["replace"]
            )
        except RecipeFormatError as error:
            lines = "\n".join(f"  - {p}" for p in error.problems)
            raise CommandError(f"The recipe was not imported:\n{lines}") from None
        recipe.refresh_from_db()
        self.stdout.write(f"Imported “{recipe.name}” into {workspace} ({recipe.state}).")
        wanted = str(document.get("name", "")).strip()
        if recipe.name != wanted:
            self.stdout.write(
                f"A recipe called “{wanted}” already exists, so this one is called "
                f"“{recipe.name}”; use --replace to replace the draft of “{wanted}” instead."
            )
        for problem in problems:
            self.stdout.write(f"  - {problem}")
        if options["publish"] and problems:
            self.stdout.write("Not published: connect the apps above, then publish.")
        elif recipe.current_version:
            self.stdout.write(f"Published as version {recipe.current_version.number}.")

    def do_export(self, options):
        recipe = self.recipe(options)
        self.stdout.write(json.dumps(export_recipe(recipe), indent=2, ensure_ascii=False))

    def do_run(self, options):
        recipe = self.recipe(options)
        try:
            data = parse_data(options["data"])
        except ValueError as error:  # bad syntax or a number JSON cannot carry (NaN, 1e999)
            raise CommandError(f"--data is not valid JSON: {error}") from None
        try:
            run = start_run(recipe, Run.Source.MANUAL, data)
        except RunError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Run {run.pk} queued.")
        if not options["wait"]:
            return
        deadline = time.monotonic() + options["timeout"]
        while True:
            run.refresh_from_db()
            if run.finished or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.stdout.write(f"Run {run.pk}: {run.status}" + (f" — {run.error}" if run.error else ""))
        for step in run.steps.order_by("id"):
            item = f"[{step.item}]" if step.item is not None else ""
            timing = f"{step.duration_ms} ms" if step.duration_ms is not None else "-"
            line = f"  {step.key}{item} attempt {step.attempt}: {step.status} ({timing})"
            if step.error:
                line += f" — {step.error}"
            self.stdout.write(line)
        if not run.finished:
            raise CommandError(f"Run {run.pk} has not finished after {options['timeout']:g} s.")
        if run.status == Run.Status.FAILED:
            raise CommandError(f"Run {run.pk} failed.")
