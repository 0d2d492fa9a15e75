"""Importing, publishing and pausing recipes."""

from __future__ import annotations

from django.db import transaction

from hub.accounts.models import Workspace, audit
from hub.engine import messages
from hub.engine.messages import Message
from hub.recipes import format as recipe_format
from hub.recipes.format import Problem, RecipeFormatError
from hub.recipes.models import Recipe, RecipeVersion


def connection_labels(workspace: Workspace) -> dict[str, set[str]] | None:
    try:
        from hub.connections.models import Connection
    except ImportError:
        return None
    app_field = "integration" if _has(Connection, "integration") else "app"
    labels: dict[str, set[str]] = {}
    for app, label in Connection.objects.filter(workspace=workspace).values_list(
        app_field, "label"
    ):
        labels.setdefault(app, set()).add(label)
    return labels


def _has(model, name: str) -> bool:
    return any(f.name == name for f in model._meta.get_fields())


def check(workspace: Workspace, document: dict) -> list[Problem]:
    return recipe_format.validate(document, connection_labels(workspace))


def import_recipe(
    workspace: Workspace, document, *, user=None, publish: bool = False
) -> tuple[Recipe, list[Problem]]:
    """Create or update (by name) a recipe from a file's JSON. Raises RecipeFormatError when
    the file is not a valid recipe; a missing connection only keeps it a draft."""
    document = recipe_format.normalize(document)
    problems = check(workspace, document)
    hard = recipe_format.blocking(problems)
    if hard:
        raise RecipeFormatError(hard)
    with transaction.atomic():
        recipe, created = Recipe.objects.select_for_update().get_or_create(
            workspace=workspace,
            name=document["name"],
            defaults={"draft": document, "owner": user, "description": document["description"]},
        )
        if not created:
            recipe.draft = document
            recipe.description = document["description"]
            recipe.save(update_fields=["draft", "description", "updated_at"])
        audit(workspace, user, "recipe.imported", recipe.name, recipe_id=recipe.pk)
        if publish and not problems:
            publish_recipe(recipe, user=user)
    return recipe, problems


def publish_recipe(recipe: Recipe, *, user=None) -> RecipeVersion:
    """Freeze the draft into a new version and make it the one that runs, swapping the
    trigger in the same transaction."""
    from hub.engine.scheduler import sync_trigger

    document = recipe_format.normalize(recipe.draft)
    problems = check(recipe.workspace, document)
    if problems:
        raise RecipeFormatError(problems)
    with transaction.atomic():
        recipe = Recipe.objects.select_for_update().get(pk=recipe.pk)
        last = recipe.versions.order_by("-number").values_list("number", flat=True).first()
        version = RecipeVersion.objects.create(
            recipe=recipe, number=(last or 0) + 1, document=document, published_by=user
        )
        recipe.current_version = version
        recipe.state = Recipe.State.ACTIVE
        recipe.paused_reason = ""
        recipe.paused_message = None
        recipe.save(
            update_fields=[
                "current_version",
                "state",
                "paused_reason",
                "paused_message",
                "updated_at",
            ]
        )
        sync_trigger(recipe)
        audit(recipe.workspace, user, "recipe.published", recipe.name, version=version.number)
    return version


def set_paused(recipe: Recipe, paused: bool, *, user=None, reason: str | Message = "") -> Recipe:
    """``reason``: why the hub paused it, best as a Message so each reader gets it in their
    language (plain text is shown as it is)."""
    from hub.engine.scheduler import sync_trigger

    with transaction.atomic():
        recipe = Recipe.objects.select_for_update().get(pk=recipe.pk)
        if paused:
            recipe.state = Recipe.State.PAUSED
            recipe.paused_reason = str(reason)[:300]
            recipe.paused_message = messages.to_json(reason)
        elif recipe.current_version is not None:
            recipe.state = Recipe.State.ACTIVE
            recipe.paused_reason = ""
            recipe.paused_message = None
        recipe.save(update_fields=["state", "paused_reason", "paused_message", "updated_at"])
        sync_trigger(recipe)
        audit(
            recipe.workspace,
            user,
            "recipe.paused" if paused else "recipe.resumed",
            recipe.name,
            reason=str(reason),
        )
    return recipe


def export_recipe(recipe: Recipe) -> dict:
    version = recipe.current_version
    document = recipe.draft or (version.document if version else {})
    return recipe_format.export(document)
