"""Importing, publishing, pausing and deleting recipes."""

from __future__ import annotations

import copy
from typing import NamedTuple

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from hub.accounts.models import Workspace, audit
from hub.engine import messages, secrets
from hub.engine.messages import Message
from hub.recipes import access
from hub.recipes import format as recipe_format
from hub.recipes.format import Problem, RecipeFormatError
from hub.recipes.models import Recipe, RecipeVersion
from integrations import registry
from integrations.base import IntegrationError


def _connection_rows(workspace: Workspace) -> list[tuple[int, str, str]]:
    """(id, app, label) of every connection of the workspace: one read serves both resolving
    a document's connections and checking its labels."""
    from hub.connections.models import Connection

    return list(
        Connection.objects.filter(workspace=workspace).values_list("pk", "integration", "label")
    )


def connection_labels(workspace: Workspace, rows=None) -> dict[str, set[str]]:
    labels: dict[str, set[str]] = {}
    for _pk, app, label in _connection_rows(workspace) if rows is None else rows:
        labels.setdefault(app, set()).add(label)
    return labels


class _Known(NamedTuple):
    pk: int
    integration: str
    label: str


def _connection_slugs(app) -> tuple[str, ...]:
    """The apps whose connections a step of ``app`` uses (the llm steps: a provider's)."""
    try:
        return getattr(registry.get(str(app)), "uses_connections_of", (str(app),))
    except IntegrationError:
        return (str(app),)


def resolve_connections(
    workspace: Workspace, document: dict, *, by_label: bool = False, rows=None
) -> dict:
    """The document with each step's connection resolved: ``connection_id`` names the
    connection and ``connection`` holds its current label. A step keeps its id while that
    connection exists (renaming changes nothing); a step without one — a file being imported
    (``by_label``: ids in a file are never trusted) or an old draft — is resolved by label.
    A step whose connection cannot be found keeps its label and no id."""
    from hub.connections.models import Connection

    document = copy.deepcopy(document)
    # The trigger names its connection as a step does.
    steps = [s for s in access.named_parts(document) if isinstance(s, dict)]
    if by_label:
        for step in steps:
            step.pop("connection_id", None)
    named = [s for s in steps if s.get("connection") or s.get("connection_id")]
    if not named:
        return document
    if rows is not None:  # the workspace's connections, already read (_connection_rows)
        found = {pk: _Known(pk, app, label) for pk, app, label in rows}
    else:
        found = {
            c.pk: c
            for c in Connection.objects.for_workspace(workspace).filter(
                Q(pk__in=access.step_connection_ids(document))
                | Q(label__in=[s["connection"] for s in named if s.get("connection")])
            )
        }
    by_app_label = {(c.integration, c.label): c for c in found.values()}
    for step in named:
        slugs = _connection_slugs(step.get("app"))
        connection = found.get(step.get("connection_id"))
        if connection is None or connection.integration not in slugs:
            connection = next(
                (
                    by_app_label[(slug, step.get("connection"))]
                    for slug in slugs
                    if (slug, step.get("connection")) in by_app_label
                ),
                None,
            )
        if connection is None:
            step.pop("connection_id", None)
        else:
            step["connection_id"] = connection.pk
            step["connection"] = connection.label
    return document


def _prepare(
    workspace: Workspace, document: dict, user, *, by_label: bool = False, membership=None
):
    """Resolve the document's connections and find its problems, including connections the
    user may not use (none for the command line, ``user`` None)."""
    from hub.connections.models import Connection

    rows = _connection_rows(workspace)
    document = resolve_connections(workspace, document, by_label=by_label, rows=rows)
    problems = recipe_format.validate(document, connection_labels(workspace, rows))
    ids = access.step_connection_ids(document)
    if user is not None and ids:
        usable = set(
            Connection.objects.usable_by(user, workspace, membership)
            .filter(pk__in=ids)
            .values_list("pk", flat=True)
        )
        for step in access.named_parts(document):
            if step.get("connection_id") in ids - usable:
                problems.append(
                    Problem(
                        _(
                            "The connection “%(label)s” is not shared with you. Ask an admin "
                            "to share it with you, or to publish the recipe."
                        )
                        % {"label": step["connection"]},
                        step.get("key", "trigger"),
                        "connection",
                        connection=True,
                    )
                )
    return document, problems


def check(workspace: Workspace, document: dict, user=None, membership=None) -> list[Problem]:
    """``membership``: the user's own, when the caller has read it already."""
    return _prepare(workspace, document, user, membership=membership)[1]


def unique_name(workspace: Workspace, wanted: str) -> str:
    wanted = wanted[:190]
    taken = set(
        Recipe.objects.filter(workspace=workspace, name__startswith=wanted).values_list(
            "name", flat=True
        )
    )
    name, n = wanted, 2
    while name in taken:
        name, n = f"{wanted} ({n})", n + 1
    return name


def import_recipe(
    workspace: Workspace, document, *, user=None, publish: bool = False, replace: bool = False
) -> tuple[Recipe, list[Problem]]:
    """Create a recipe from a file's JSON. Raises RecipeFormatError when the file is not a
    valid recipe; a missing connection (or one the importer may not use) keeps it a draft.

    When a recipe of that name exists, its draft is replaced only when ``replace`` was asked
    for and ``user`` may manage it; otherwise the file becomes a new recipe with a free name
    ("Name (2)"). ``publish`` publishes under the same rule as the Publish button."""
    document = recipe_format.normalize(document)
    # A file's secrets are sealed before anything stores them (see hub.engine.secrets).
    document = secrets.seal(secrets.from_file(document), workspace.pk)
    document, problems = _prepare(workspace, document, user, by_label=True)
    hard = recipe_format.blocking(problems)
    if hard:
        raise RecipeFormatError(hard)
    with transaction.atomic():
        recipe = (
            Recipe.objects.select_for_update()
            .filter(workspace=workspace, name=document["name"])
            .first()
        )
        replaced = bool(recipe and replace and access.may_manage(user, recipe))
        if replaced:
            recipe.draft = document
            recipe.description = document["description"]
            recipe.save(update_fields=["draft", "description", "updated_at"])
        else:
            recipe = create_draft(workspace, document, user)
        audit(
            workspace, user, "recipe.imported", recipe.name, recipe_id=recipe.pk, replaced=replaced
        )
        if publish and not problems and access.may_manage(user, recipe):
            publish_recipe(recipe, user=user)
            recipe.refresh_from_db()
    return recipe, problems


def create_draft(workspace: Workspace, document: dict, user) -> Recipe:
    """A new recipe holding ``document`` as its draft; a name already taken becomes
    "Name (2)"."""
    wanted = document["name"]
    for _attempt in range(5):
        document["name"] = unique_name(workspace, wanted)
        try:
            # A savepoint: a concurrent import (or use of the same template) taking the same
            # name must not spoil the transaction, only make this one try the next free name.
            with transaction.atomic():
                return Recipe.objects.create(
                    workspace=workspace,
                    name=document["name"],
                    owner=user,
                    draft=document,
                    description=document["description"],
                )
        except IntegrityError:
            continue
    raise IntegrityError(f"No free name for the recipe “{wanted}”.")


def publish_recipe(recipe: Recipe, *, user=None) -> RecipeVersion:
    """Freeze the draft into a new version and make it the one that runs, swapping the
    trigger in the same transaction."""
    from hub.engine.scheduler import sync_trigger

    # A draft written with a plain secret is sealed here, so no version ever holds one.
    draft = secrets.seal(recipe.draft, recipe.workspace_id)
    document = recipe_format.normalize(draft)
    document, problems = _prepare(recipe.workspace, document, user)
    if problems:
        raise RecipeFormatError(problems)
    sealed = draft is not recipe.draft
    with transaction.atomic():
        recipe = Recipe.objects.select_for_update().get(pk=recipe.pk)
        if sealed:
            Recipe.objects.filter(pk=recipe.pk).update(draft=draft)
        last = recipe.versions.order_by("-number").values_list("number", flat=True).first()
        version = RecipeVersion.objects.create(
            recipe=recipe,
            number=(last or 0) + 1,
            document=document,
            published_by=user,
            timezone=document.get("timezone") or "",
        )
        version.connections.set(access.step_connection_ids(document))
        recipe.current_version = version
        recipe.state = Recipe.State.ACTIVE
        recipe.paused_reason = ""
        recipe.paused_message = None
        # The draft takes the resolved labels too, so it does not look changed.
        recipe.draft = document
        recipe.save(
            update_fields=[
                "current_version",
                "state",
                "paused_reason",
                "paused_message",
                "draft",
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
    # Labels as the connections are called now; the ids stay behind.
    return recipe_format.export(resolve_connections(recipe.workspace, document))


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


def pause_for(version_id: int, reason: str) -> bool:
    """Pause the recipe whose current, active version this is (the executor found that its
    publisher may no longer use a connection). False when it was republished or paused
    meanwhile, so a newer version is left alone."""
    recipe = Recipe.objects.filter(current_version_id=version_id, state=Recipe.State.ACTIVE)
    recipe = recipe.first()
    if recipe is None:
        return False
    set_paused(recipe, True, reason=reason)
    return True


class RecipeBusy(Exception):
    pass


def delete_recipe(recipe: Recipe, *, user=None) -> int:
    """Delete a recipe with its versions and runs; returns how many runs went with it.

    Runs go with the recipe (docs/engine.md, "Deleting a recipe"): a run without its recipe
    cannot be replayed or understood, and retention already bounds history. Refused while a
    worker holds a run's lease (a step in progress), since that step's result would have
    nowhere to go."""
    from django.utils import timezone

    from hub.engine import run_counts
    from hub.engine.models import Run
    from hub.engine.sweeper import BATCH

    with transaction.atomic():
        recipe = Recipe.objects.select_for_update().get(pk=recipe.pk)
        runs = Run.objects.filter(recipe=recipe)
        if runs.filter(status=Run.Status.RUNNING, lease_expires__gt=timezone.now()).exists():
            raise RecipeBusy(
                _(
                    "A run of this recipe is in progress. Cancel it or wait for it to finish, "
                    "then delete the recipe."
                )
            )
        deleted = 0
        while ids := list(runs.values_list("id", flat=True)[:BATCH]):
            deleted += Run.objects.filter(id__in=ids).delete()[1].get("engine.Run", 0)
        if deleted:
            run_counts.forget(recipe.workspace_id)
        recipe_id, name = recipe.pk, recipe.name
        recipe.delete()
        audit(recipe.workspace, user, "recipe.deleted", name, recipe_id=recipe_id, runs=deleted)
    return deleted
