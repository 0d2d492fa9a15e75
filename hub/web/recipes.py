"""Recipe pages: the list with "Run now", a recipe's page (trigger, steps, versions, webhook
address, publish/pause), and importing a recipe file. Everything is scoped to the current
workspace: another workspace's recipe is a 404."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from hub.connections.models import Connection
from hub.engine import secrets
from hub.engine.intake import parse_data
from hub.engine.models import Run
from hub.engine.runs import RunError, start_run
from hub.llm.models import EvalRun
from hub.recipes import access, evaluation_runs
from hub.recipes import format as recipe_format
from hub.recipes.format import RecipeFormatError
from hub.recipes.models import Recipe
from hub.recipes.services import (
    RecipeBusy,
    check,
    delete_recipe,
    export_recipe,
    import_recipe,
    publish_recipe,
    resolve_connections,
    set_paused,
    set_secret,
)
from hub.web import triggers
from hub.web.decorators import member_required
from hub.web.run_filters import LISTED


def _recipe(request, pk: int) -> Recipe:
    return get_object_or_404(
        Recipe.objects.select_related("current_version"), pk=pk, workspace=request.workspace
    )


def _may_manage(request, recipe: Recipe) -> bool:
    return access.may_manage(request.user, recipe, request.membership)


@member_required
def recipe_list(request):
    # Newest by the (workspace, recipe, created_at) index: one short index read per recipe.
    last = access.visible_runs(
        request.membership,
        Run.objects.filter(workspace=request.workspace, recipe=OuterRef("pk")),
    ).order_by("-created_at", "-id")
    recipes = (
        Recipe.objects.filter(workspace=request.workspace)
        .select_related("current_version")
        .annotate(
            last_run_id=Subquery(last.values("id")[:1]),
            last_run_status=Subquery(last.values("status")[:1]),
            last_run_at=Subquery(last.values("created_at")[:1]),
        )
        .order_by("name")
    )
    labels = dict(Run.Status.choices)
    for recipe in recipes:
        recipe.last_run_label = labels.get(recipe.last_run_status, recipe.last_run_status)
    # A first recipe needs a connection only when none is there yet: say so only then.
    connected = recipes or Connection.objects.filter(workspace=request.workspace).exists()
    return render(request, "recipes/list.html", {"recipes": recipes, "connected": connected})


@member_required
def recipe_detail(request, pk: int):
    recipe = _recipe(request, pk)
    document = recipe.draft or (recipe.current_version.document if recipe.current_version else {})
    problems = []
    manage = _may_manage(request, recipe)
    if document:
        # Shown with the connections' current labels.
        document = resolve_connections(request.workspace, document)
        try:
            problems = check(
                request.workspace,
                recipe_format.normalize(document),
                user=request.user if manage else None,
            )
        except RecipeFormatError as error:
            problems = error.problems
    webhook_url = None
    if manage and recipe.trigger_app == "webhook":
        webhook_url = settings.HUB_BASE_URL + reverse(
            "webhook", args=[recipe.public_id, recipe.webhook_secret]
        )
    draft_changed = (
        bool(
            recipe.current_version
            and recipe_format.normalize(recipe.draft) != recipe.current_version.document
        )
        if recipe.draft
        else False
    )
    return render(
        request,
        "recipes/detail.html",
        {
            "recipe": recipe,
            "document": document,
            "problems": problems,
            "versions": recipe.versions.all()[:20],
            # The workspace too, so the (workspace, recipe, created_at) index serves it.
            "runs": access.visible_runs(
                request.membership,
                recipe.runs.filter(workspace_id=recipe.workspace_id).only("recipe", *LISTED),
            )[:10],
            "webhook_url": webhook_url,
            "may_manage": manage,
            "draft_changed": draft_changed,
            "export": json.dumps(export_recipe(recipe), indent=2, ensure_ascii=False)
            if document
            else "",
            "secret_fields": secrets.listing(recipe.draft or document),
            **triggers.panel(request, recipe, document),
        },
    )


@member_required
@require_POST
def secret(request, pk: int):
    recipe = _recipe(request, pk)
    if not _may_manage(request, recipe):
        raise PermissionDenied(_("Only the recipe's owner or an admin can change its secrets."))
    remove = bool(request.POST.get("remove"))
    # Pasted keys often bring a space or a line break along; a header value cannot hold them.
    value = request.POST.get("value", "").strip()
    if not remove and not value:
        messages.error(request, _("Enter the secret value, or choose Remove."))
        return redirect("recipe_detail", recipe.pk)
    step, field = request.POST.get("step", ""), request.POST.get("field", "")
    try:
        set_secret(recipe, step, field, None if remove else value, user=request.user)
    except LookupError:
        raise Http404 from None
    if remove:
        messages.success(request, _("Removed. Publish the changes to stop sending it."))
    else:
        messages.success(request, _("Saved, encrypted. Publish the changes to use it."))
    return redirect("recipe_detail", recipe.pk)


@member_required
@require_POST
def run_now(request, pk: int):
    recipe = _recipe(request, pk)
    raw = request.POST.get("data", "").strip()
    try:
        data = parse_data(raw) if raw else {}
    except json.JSONDecodeError as error:
        messages.error(
            request,
            _("The test data is not valid JSON: look at line %(line)s, column %(column)s.")
            % {"line": error.lineno, "column": error.colno},
        )
        return redirect("recipe_detail", recipe.pk)
    except ValueError as error:  # a number JSON cannot carry (NaN, 1e999)
        messages.error(request, _("The test data is not valid JSON: %(e)s") % {"e": error})
        return redirect("recipe_detail", recipe.pk)
    if recipe.state != Recipe.State.ACTIVE and recipe.current_version is None:
        messages.error(request, _("Publish the recipe before running it."))
        return redirect("recipe_detail", recipe.pk)
    try:
        run = start_run(recipe, Run.Source.MANUAL, data, user=request.user)
    except RunError as error:
        messages.error(request, str(error))
        return redirect("recipe_detail", recipe.pk)
    messages.success(request, _("The recipe is running."))
    return redirect("run_detail", run.pk)


@member_required
@require_POST
def publish(request, pk: int):
    recipe = _recipe(request, pk)
    if not _may_manage(request, recipe):
        raise PermissionDenied(_("Only the recipe's owner or an admin can publish it."))
    check = evaluation_runs.publish_check(recipe, request.user)
    if check is not None and (
        check.status != EvalRun.Status.DONE or evaluation_runs.draft_is_worse(check)
    ):
        # The editor's publish panel follows the comparison and asks when the draft is worse.
        messages.info(
            request,
            _(
                "This recipe has test cases: publish from the editor, which compares the draft "
                "with the live version on them first."
            ),
        )
        return redirect("editor", recipe.pk)
    try:
        version = publish_recipe(recipe, user=request.user)
    except RecipeFormatError as error:
        for problem in error.problems:
            messages.error(request, str(problem))
        return redirect("recipe_detail", recipe.pk)
    messages.success(request, _("Published version %(n)s.") % {"n": version.number})
    return redirect("recipe_detail", recipe.pk)


@member_required
@require_POST
def pause(request, pk: int):
    recipe = _recipe(request, pk)
    if not _may_manage(request, recipe):
        raise PermissionDenied(_("Only the recipe's owner or an admin can pause it."))
    paused = request.POST.get("paused") != "0"
    set_paused(recipe, paused, user=request.user)
    messages.success(request, _("Paused.") if paused else _("Turned on again."))
    return redirect("recipe_detail", recipe.pk)


@member_required
def delete(request, pk: int):
    recipe = _recipe(request, pk)
    if not _may_manage(request, recipe):
        raise PermissionDenied(_("Only the recipe's owner or an admin can delete it."))
    if request.method != "POST":
        return render(
            request,
            "recipes/delete.html",
            {"recipe": recipe, "run_count": recipe.runs.count()},
        )
    try:
        runs = delete_recipe(recipe, user=request.user)
    except RecipeBusy as busy:
        messages.error(request, str(busy))
        return redirect("recipe_detail", recipe.pk)
    messages.success(
        request,
        ngettext(
            "Deleted “%(name)s” and its %(n)s run.",
            "Deleted “%(name)s” and its %(n)s runs.",
            runs,
        )
        % {"name": recipe.name, "n": runs},
    )
    return redirect("recipes")


@member_required
def import_file(request):
    if request.method != "POST":
        return render(request, "recipes/import.html", {})
    upload = request.FILES.get("file")
    text = upload.read().decode("utf-8", "replace") if upload else request.POST.get("text", "")
    publish = bool(request.POST.get("publish"))
    try:
        document = recipe_format.parse(text)
        existing = _same_name(request, document)
        if existing is not None and request.POST.get("replace") not in ("0", "1"):
            # Replacing is never silent: ask, keeping the file in the form.
            return render(
                request,
                "recipes/import.html",
                {"text": text, "publish": publish, "existing": existing},
            )
        recipe, problems = import_recipe(
            request.workspace,
            document,
            user=request.user,
            publish=publish,
            replace=request.POST.get("replace") == "1",
        )
    except RecipeFormatError as error:
        return render(
            request,
            "recipes/import.html",
            {"errors": [str(p) for p in error.problems], "text": text},
            status=400,
        )
    # The recipe's page lists what it still needs; saying it here as well would say it twice.
    if problems:
        messages.warning(
            request,
            _("Imported “%(name)s” as a draft: see below what it needs before it can run.")
            % {"name": recipe.name},
        )
    else:
        messages.success(request, _("Imported “%(name)s”.") % {"name": recipe.name})
    if recipe.name != document.get("name", "").strip():
        messages.info(
            request,
            _("A recipe called “%(old)s” already exists, so this one is called “%(new)s”.")
            % {"old": document.get("name", "").strip(), "new": recipe.name},
        )
    return redirect("recipe_detail", recipe.pk)


def _same_name(request, document) -> Recipe | None:
    """The recipe the file would replace, if the importer may manage it."""
    name = document.get("name") if isinstance(document, dict) else None
    if not isinstance(name, str) or not name.strip():
        return None
    existing = Recipe.objects.filter(workspace=request.workspace, name=name.strip()).first()
    return existing if existing is not None and _may_manage(request, existing) else None
