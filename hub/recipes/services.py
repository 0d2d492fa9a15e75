"""Importing, publishing and pausing recipes."""

from __future__ import annotations

import copy

from django.db import transaction

from hub.accounts.models import Workspace, audit
from hub.engine import secrets
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
    # A file's secrets are sealed before anything stores them (see hub.engine.secrets).
    document = secrets.seal(secrets.from_file(document), workspace.pk)
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

    # A draft written with a plain secret is sealed here, so no version ever holds one.
    draft = secrets.seal(recipe.draft, recipe.workspace_id)
    document = recipe_format.normalize(draft)
    problems = check(recipe.workspace, document)
    if problems:
        raise RecipeFormatError(problems)
    sealed = draft is not recipe.draft
    with transaction.atomic():
        recipe = Recipe.objects.select_for_update().get(pk=recipe.pk)
        if sealed:
            Recipe.objects.filter(pk=recipe.pk).update(draft=draft)
        last = recipe.versions.order_by("-number").values_list("number", flat=True).first()
        version = RecipeVersion.objects.create(
            recipe=recipe, number=(last or 0) + 1, document=document, published_by=user
        )
        recipe.current_version = version
        recipe.state = Recipe.State.ACTIVE
        recipe.paused_reason = ""
        recipe.save(update_fields=["current_version", "state", "paused_reason", "updated_at"])
        sync_trigger(recipe)
        audit(recipe.workspace, user, "recipe.published", recipe.name, version=version.number)
    return version


def set_paused(recipe: Recipe, paused: bool, *, user=None, reason: str = "") -> Recipe:
    from hub.engine.scheduler import sync_trigger

    with transaction.atomic():
        recipe = Recipe.objects.select_for_update().get(pk=recipe.pk)
        if paused:
            recipe.state = Recipe.State.PAUSED
            recipe.paused_reason = reason[:300]
        elif recipe.current_version is not None:
            recipe.state = Recipe.State.ACTIVE
            recipe.paused_reason = ""
        recipe.save(update_fields=["state", "paused_reason", "updated_at"])
        sync_trigger(recipe)
        audit(
            recipe.workspace,
            user,
            "recipe.paused" if paused else "recipe.resumed",
            recipe.name,
            reason=reason,
        )
    return recipe


def export_recipe(recipe: Recipe) -> dict:
    version = recipe.current_version
    document = recipe.draft or (version.document if version else {})
    return recipe_format.export(document)


def set_secret(recipe: Recipe, step_key: str, field_key: str, value: str | None, *, user=None):
    """Set (sealed) or, with ``value=None``, remove one secret field of the draft. Raises
    LookupError when the draft has no such step or the field is not a secret."""
    with transaction.atomic():
        recipe = Recipe.objects.select_for_update().get(pk=recipe.pk)
        draft = copy.deepcopy(recipe.draft or {})
        step = next(
            (
                s
                for s in draft.get("steps") or []
                if isinstance(s, dict) and s.get("key") == step_key
            ),
            None,
        )
        if step is None or field_key not in dict(
            secrets.secret_keys(step.get("app"), step.get("action"))
        ):
            raise LookupError(field_key)
        config = step.setdefault("config", {})
        if value is None:
            config.pop(field_key, None)
        else:
            config[field_key] = secrets.seal_value(value, recipe.workspace_id)
        recipe.draft = draft
        recipe.save(update_fields=["draft", "updated_at"])
        audit(
            recipe.workspace,
            user,
            "recipe.secret_removed" if value is None else "recipe.secret_set",
            recipe.name,
            step=step_key,
            field=field_key,
        )
    return recipe


def rotate_secrets() -> int:
    """Re-encrypt the sealed secrets of every draft and version under the first vault key;
    returns how many were rewritten. Each row is rewritten under its lock. Versions never
    change otherwise; rotation rewrites only the ciphertext of the same value."""
    count = 0
    for model, column in ((Recipe, "draft"), (RecipeVersion, "document")):
        for pk in model.objects.values_list("pk", flat=True):
            with transaction.atomic():
                row = model.objects.select_for_update().filter(pk=pk).values(column).first()
                if row is None:
                    continue
                rotated, changed = secrets.rotate(row[column])
                if changed:
                    model.objects.filter(pk=pk).update(**{column: rotated})
                    count += changed
    return count
