"""The template context of the editor's cards, shared by the page and every partial the
editor's endpoints answer with (``templates/recipes/editor/page.html#…``)."""

from __future__ import annotations

import json
from functools import cache
from zoneinfo import available_timezones

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _

from hub.recipes import access, drafts
from hub.recipes.models import Recipe
from hub.web import editor_cards as cards
from hub.web import editor_fields

PAGE = "recipes/editor/page.html"


def editable(request, pk: int) -> Recipe:
    """The recipe, if it is this workspace's (else 404) and the member may edit it."""
    recipe = get_object_or_404(
        Recipe.objects.select_related("current_version"), pk=pk, workspace=request.workspace
    )
    if not access.may_manage(request.user, recipe, request.membership):
        raise PermissionDenied(_("Only the recipe's owner or an admin can edit it."))
    return recipe


def draft_of(recipe: Recipe) -> dict:
    draft = recipe.draft or drafts.blank_document(recipe.name)
    draft.setdefault("steps", [])
    draft.setdefault("trigger", {"app": "manual"})
    return draft


def editable_step(request, pk: int, key: str) -> tuple[Recipe, dict, int, dict]:
    """The editable recipe, its draft, and the draft's step ``key`` with its index; 404 when
    the draft has no such step."""
    recipe = editable(request, pk)
    draft = draft_of(recipe)
    try:
        index, step = drafts.find_step(draft, key)
    except LookupError:
        raise Http404 from None
    return recipe, draft, index, step


def _connection_part(request, integration, chosen_id) -> dict:
    if not cards.connection_needed(integration):
        return {"needs_connection": False}
    usable = cards.usable_connections(request, integration)
    chosen = next((c for c in usable if c.pk == chosen_id), None)
    return {
        "needs_connection": True,
        "connections": usable,
        "connection": chosen,
        "connect_url": cards.connect_url(integration.uses_connections_of[0]),
        "connect_app": integration.name,
    }


def step_context(
    request, recipe: Recipe, draft: dict, index: int, samples: dict, ui: dict | None = None
) -> dict:
    """A step card's context; ``ui`` what the last change asks of this rendering (see
    ``editor_conditions.ui_of``)."""
    step = draft["steps"][index]
    key = step["key"]
    card = f"step-{key}"
    integration, action = cards.find(step.get("app"), step.get("action"))
    context = {
        "kind": "step",
        "recipe": recipe,
        "step": step,
        "key": key,
        "card": card,
        "number": index + 1,
        "first": index == 0,
        "last": index == len(draft["steps"]) - 1,
        "save_url": reverse("editor_step", args=[recipe.pk, key]),
        "test_url": reverse("editor_test_step", args=[recipe.pk, key]),
        "data_url": reverse("editor_data", args=[recipe.pk]) + f"?before={key}",
        "integration": integration,
        "action": action,
        "title": _("Step %(n)s") % {"n": index + 1},
    }
    if integration is None:
        context.update(stage="app", apps=cards.step_apps())
        return context
    context["app"] = cards.app_entry(integration.slug)
    context["title"] = f"{context['title']} · {integration.name}"
    if action is None:
        context.update(stage="action", choices=_declarations(integration.actions))
        return context
    context["title"] = f"{context['title']} · {action.label}"
    context.update(stage="fields", effect=action.effect, help=str(action.help or ""))
    context.update(_connection_part(request, integration, step.get("connection_id")))
    sample = samples.get(key)
    config = step.get("config") or {}
    fields = list(action.fields) + cards.provided_fields(
        request, integration, action, context.get("connection"), config
    )
    place = {
        "app": integration.slug,
        "step": action.key,
        "card": card,
        "connection_id": context["connection"].pk if context.get("connection") else None,
        "ui": ui or {},
        "later_steps": [
            (later["key"], cards.place(draft, later["key"])[0] + _named(later))
            for later in draft["steps"][index + 1 :]
        ],
    }
    labels = sample.choice_labels if sample else {}
    context["controls"] = editor_fields.controls(fields, config, place, labels)
    context["filled"] = set(config)
    split_optional(context)
    context["sample"] = sample.output if sample and sample.tested_at else None
    context["chips_json"] = json.dumps(_chips(draft, index, samples, config), ensure_ascii=False)
    return context


def _named(step: dict) -> str:
    _integration, action = cards.find(step.get("app"), step.get("action"))
    what = step.get("name") or (action.label if action is not None else "")
    return f" · {what}" if what else ""


def split_optional(context: dict) -> None:
    """Required fields and those already filled show, with the pickers they depend on (a
    ClickUp list needs its Workspace and Space first); the rest wait under "More options",
    so a card asks first for what it needs."""
    controls = {control.key: control for control in context["controls"]}
    wanted = {
        key
        for key, control in controls.items()
        if control.required or key in context.get("filled", ()) or control.error
    }
    todo = list(wanted)
    while todo:
        for parent in controls[todo.pop()].depends_on:
            if parent in controls and parent not in wanted:
                wanted.add(parent)
                todo.append(parent)
    shown, more = [], []
    for control in context["controls"]:
        (shown if control.key in wanted else more).append(control)
    context["shown_controls"], context["more_controls"] = shown, more


def _chips(draft, index, samples, config: dict) -> dict:
    """Labels of the references the card's fields hold (condition rows too), for the chips."""
    if "{{" not in json.dumps(config, ensure_ascii=False):
        return {}
    return cards.chip_labels(cards.data_groups(draft, index, samples))


def _declarations(table) -> list[dict]:
    return [
        {"key": key, "label": str(d.label), "help": str(d.help or "")} for key, d in table.items()
    ]


def trigger_context(request, recipe: Recipe, draft: dict, samples: dict) -> dict:
    trigger = draft.get("trigger") or {"app": "manual"}
    integration, declared = cards.find(trigger.get("app"), trigger.get("event"), trigger=True)
    context = {
        "kind": "trigger",
        "recipe": recipe,
        "trigger": trigger,
        "card": "trigger",
        "save_url": reverse("editor_trigger", args=[recipe.pk]),
        "test_url": reverse("editor_test_trigger", args=[recipe.pk]),
        "data_url": "",
        "integration": integration,
        "declared": declared,
        "title": _("Trigger"),
    }
    if integration is None or trigger.get("choose"):
        context.update(stage="app", apps=cards.trigger_apps())
        return context
    context["app"] = cards.app_entry(integration.slug)
    context["title"] = f"{_('Trigger')} · {integration.name}"
    if declared is None:
        context.update(stage="action", choices=_declarations(integration.triggers))
        return context
    context["title"] = f"{context['title']} · {declared.label}"
    context.update(
        stage="fields", several=len(integration.triggers) > 1, help=str(declared.help or "")
    )
    context.update(_connection_part(request, integration, trigger.get("connection_id")))
    sample = samples.get("trigger")
    place = {
        "app": integration.slug,
        "step": declared.key,
        "trigger": True,
        "card": "trigger",
        "connection_id": context["connection"].pk if context.get("connection") else None,
    }
    labels = sample.choice_labels if sample else {}
    context["controls"] = editor_fields.controls(
        declared.fields, trigger.get("config") or {}, place, labels
    )
    context["filled"] = set(trigger.get("config") or {})
    split_optional(context)
    context["sample"] = sample.output if sample and sample.tested_at else None
    return context


@cache
def timezones() -> list[str]:
    return sorted(z for z in available_timezones() if "/" in z or z == "UTC")


def with_errors(context: dict, errors: dict[str, str]) -> dict:
    for control in context.get("controls") or []:
        control.error = errors.get(control.key, "")
    if context.get("controls"):
        split_optional(context)
    return context


def cards_context(request, recipe: Recipe) -> dict:
    draft = draft_of(recipe)
    samples = drafts.samples(recipe)
    return {
        "recipe": recipe,
        "draft": draft,
        "trigger_card": trigger_context(request, recipe, draft, samples),
        "step_cards": [
            step_context(request, recipe, draft, i, samples) for i in range(len(draft["steps"]))
        ],
        "problems": cards.problems(request, draft),
        "add_url": reverse("editor_add_step", args=[recipe.pk]),
        "timezones": timezones(),
    }
