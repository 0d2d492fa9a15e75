"""Editing a recipe's draft one change at a time, as the editor saves it.

Every change takes the recipe's row lock, edits a copy of the draft and writes it back, so two
tabs saving at once never lose each other's change. The draft may be unfinished (a step with
no app yet); ``hub.recipes.format`` reads only finished steps, and the editor lists what is
missing. Steps keep their key for life: moving, renaming or changing a step never changes it,
so ``{{ steps.<key>.… }}`` references follow the step wherever it goes.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hub.accounts.models import Workspace, audit
from hub.recipes.format import FORMAT, MAX_STEPS, RESERVED_KEYS
from hub.recipes.models import Recipe, RecipeVersion, StepSample
from hub.recipes.services import unique_name


class DraftError(ValueError):
    """A change the draft cannot take; the message says what to do instead."""


def blank_document(name: str) -> dict:
    return {
        "format": FORMAT,
        "name": name,
        "description": "",
        "trigger": {"app": "manual"},
        "steps": [],
    }


def new_recipe(workspace: Workspace, user, name: str = "") -> Recipe:
    """A new draft recipe owned by ``user``, with a free name ("Untitled recipe (2)")."""
    wanted = name.strip() or _("Untitled recipe")
    for _attempt in range(5):
        free = unique_name(workspace, wanted)
        try:
            with transaction.atomic():
                recipe = Recipe.objects.create(
                    workspace=workspace, name=free, owner=user, draft=blank_document(free)
                )
        except IntegrityError:
            continue
        audit(workspace, user, "recipe.created", recipe.name, recipe_id=recipe.pk)
        return recipe
    raise DraftError(_("Choose another name: that one is taken."))


def change(recipe: Recipe, edit: Callable[[dict], object]) -> tuple[Recipe, object]:
    """Apply ``edit`` to a copy of the locked draft and save it; returns the fresh recipe and
    what ``edit`` returned."""
    with transaction.atomic():
        locked = Recipe.objects.select_for_update().get(pk=recipe.pk)
        draft = copy.deepcopy(locked.draft) if locked.draft else blank_document(locked.name)
        draft.setdefault("steps", [])
        result = edit(draft)
        locked.draft = draft
        locked.save(update_fields=["draft", "updated_at"])
    return locked, result


def rename(recipe: Recipe, name: str) -> Recipe:
    name = name.strip()[:200]
    if not name:
        raise DraftError(_("Give the recipe a name."))
    if Recipe.objects.filter(workspace_id=recipe.workspace_id, name=name).exclude(pk=recipe.pk):
        raise DraftError(
            _("Another recipe is called “%(name)s”: choose another name.") % {"name": name}
        )
    with transaction.atomic():
        locked = Recipe.objects.select_for_update().get(pk=recipe.pk)
        locked.name = name
        draft = copy.deepcopy(locked.draft) or blank_document(name)
        draft["name"] = name
        locked.draft = draft
        try:
            with transaction.atomic():
                locked.save(update_fields=["name", "draft", "updated_at"])
        except IntegrityError:
            raise DraftError(
                _("Another recipe is called “%(name)s”: choose another name.") % {"name": name}
            ) from None
    return locked


def set_description(recipe: Recipe, text: str) -> Recipe:
    def edit(draft):
        draft["description"] = text.strip()[:2000]

    recipe, _none = change(recipe, edit)
    Recipe.objects.filter(pk=recipe.pk).update(description=recipe.draft["description"])
    return recipe


def find_step(draft: dict, key: str) -> tuple[int, dict]:
    for index, step in enumerate(draft.get("steps") or []):
        if isinstance(step, dict) and step.get("key") == key:
            return index, step
    raise LookupError(key)


def free_key(draft: dict, wanted: str) -> str:
    """A step key from ``wanted`` (an action's key) that no step of the draft has."""
    base = re.sub(r"[^a-z0-9_]", "_", (wanted or "step").lower()).strip("_")[:50] or "step"
    if not base[0].isalpha():
        base = f"step_{base}"
    taken = {s.get("key") for s in draft.get("steps") or [] if isinstance(s, dict)}
    taken |= RESERVED_KEYS
    key, n = base, 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    return key


def add_step(recipe: Recipe, position: int) -> tuple[Recipe, str]:
    """Insert an empty step (no app yet) at ``position`` (0 = first); returns its key."""

    def edit(draft):
        steps = draft["steps"]
        if len(steps) >= MAX_STEPS:
            raise DraftError(_("A recipe has at most %(n)s steps.") % {"n": MAX_STEPS})
        key = free_key(draft, "step")
        at = max(0, min(position, len(steps)))
        steps.insert(at, {"key": key, "app": "", "action": "", "config": {}})
        return key

    return change(recipe, edit)


def save_step(recipe: Recipe, key: str, values: dict) -> Recipe:
    """Replace what the editor shows of one step: ``values`` holds app, action, name,
    connection (label) and connection_id, and config."""

    def edit(draft):
        _index, step = find_step(draft, key)
        step["app"] = values.get("app") or ""
        step["action"] = values.get("action") or ""
        for part in ("name", "connection", "connection_id"):
            if values.get(part) in (None, ""):
                step.pop(part, None)
            else:
                step[part] = values[part]
        step["config"] = values.get("config") or {}

    return change(recipe, edit)[0]


def rekey(recipe: Recipe, key: str, wanted: str) -> tuple[Recipe, str]:
    """Give a step that nothing refers to yet a key that says what it does."""

    def edit(draft):
        _index, step = find_step(draft, key)
        new = free_key(draft, wanted)
        step["key"] = new
        return new

    recipe, new = change(recipe, edit)
    StepSample.objects.filter(recipe=recipe, step_key=key).update(step_key=new)
    return recipe, new


def move_step(recipe: Recipe, key: str, delta: int) -> Recipe:
    def edit(draft):
        index, _step = find_step(draft, key)
        steps = draft["steps"]
        target = max(0, min(index + delta, len(steps) - 1))
        steps.insert(target, steps.pop(index))

    return change(recipe, edit)[0]


def duplicate_step(recipe: Recipe, key: str) -> tuple[Recipe, str]:
    def edit(draft):
        if len(draft["steps"]) >= MAX_STEPS:
            raise DraftError(_("A recipe has at most %(n)s steps.") % {"n": MAX_STEPS})
        index, step = find_step(draft, key)
        twin = copy.deepcopy(step)
        twin["key"] = free_key(draft, step.get("action") or "step")
        draft["steps"].insert(index + 1, twin)
        return twin["key"]

    return change(recipe, edit)


def delete_step(recipe: Recipe, key: str) -> Recipe:
    def edit(draft):
        index, _step = find_step(draft, key)
        draft["steps"].pop(index)

    recipe = change(recipe, edit)[0]
    StepSample.objects.filter(recipe=recipe, step_key=key).delete()
    return recipe


def set_trigger(recipe: Recipe, trigger: dict) -> Recipe:
    def edit(draft):
        draft["trigger"] = trigger

    return change(recipe, edit)[0]


def restore(recipe: Recipe, version: RecipeVersion, *, user=None) -> Recipe:
    """Make a published version the draft again; the live version keeps running."""

    def edit(draft):
        draft.clear()
        draft.update(copy.deepcopy(version.document))
        draft["name"] = recipe.name

    recipe = change(recipe, edit)[0]
    audit(recipe.workspace, user, "recipe.restored", recipe.name, version=version.number)
    return recipe


def samples(recipe: Recipe) -> dict[str, StepSample]:
    return {s.step_key: s for s in StepSample.objects.filter(recipe=recipe)}


def keep_sample(recipe: Recipe, key: str, output) -> None:
    StepSample.objects.update_or_create(
        recipe=recipe, step_key=key, defaults={"output": output, "tested_at": timezone.now()}
    )


def keep_choice_labels(recipe: Recipe, key: str, labels: dict[str, str]) -> None:
    """Remember the labels of the values chosen in live pickers, to show them again."""
    if not labels:
        return
    sample, _created = StepSample.objects.get_or_create(recipe=recipe, step_key=key)
    merged = {**(sample.choice_labels or {}), **labels}
    if merged != sample.choice_labels:
        sample.choice_labels = merged
        sample.save(update_fields=["choice_labels"])
