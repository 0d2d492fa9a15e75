"""The recipe editor's page and its autosave endpoints.

``/recipes/<pk>/edit/`` renders the draft as cards (``templates/recipes/editor/page.html``).
Every change a member makes posts its card's form (htmx, on ``change`` and after typing
pauses) to one endpoint, which saves the server-side draft at once and answers with the
problems panel and the save state (out-of-band swaps), plus the card itself when the change
reshapes it (another app or action, a connection, a value other fields depend on). The
published version keeps running until Publish.
"""

from __future__ import annotations

import re

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from hub.recipes import drafts
from hub.recipes import services as recipe_services
from hub.recipes.format import RecipeFormatError
from hub.web import editor_cards as cards
from hub.web import editor_conditions, editor_fields, publish_check
from hub.web.decorators import member_required
from hub.web.editor_context import (
    PAGE,
    cards_context,
    draft_of,
    editable,
    editable_step,
    step_context,
    trigger_context,
    with_errors,
)

PLACEHOLDER_KEY = re.compile(r"^step(_\d+)?$")


def _status(request, recipe, *, problems=None, message: str = "") -> str:
    """The out-of-band parts every save answers with: save state and problems."""
    draft = draft_of(recipe)
    context = {
        "recipe": recipe,
        "oob": True,
        "saved_at": timezone.now(),
        "save_message": message,
        "problems": cards.problems(request, draft) if problems is None else problems,
    }
    return render_to_string(f"{PAGE}#save_state", context, request) + render_to_string(
        f"{PAGE}#problems", context, request
    )


def answer(request, recipe, partial: str | None, context: dict | None, **status) -> HttpResponse:
    body = render_to_string(f"{PAGE}#{partial}", context, request) if partial else ""
    response = HttpResponse(body + _status(request, recipe, **status))
    if not partial:
        response["HX-Reswap"] = "none"
    return response


@member_required
@require_POST
def new_recipe(request):
    recipe = drafts.new_recipe(request.workspace, request.user)
    return redirect("editor", recipe.pk)


@member_required
def page(request, pk: int):
    recipe = editable(request, pk)
    context = cards_context(request, recipe)
    context["versions_url"] = reverse("editor_versions", args=[recipe.pk])
    return render(request, PAGE, context)


@member_required
@require_POST
def save_name(request, pk: int):
    recipe = editable(request, pk)
    try:
        if "name" in request.POST:
            recipe = drafts.rename(recipe, request.POST["name"])
        if "description" in request.POST:
            recipe = drafts.set_description(recipe, request.POST["description"])
    except drafts.DraftError as error:
        return answer(request, recipe, None, None, message=str(error))
    return answer(request, recipe, None, None)


def _connection(request, integration, post, current_id):
    """(id, label) of the step's connection: the one chosen, else the one it had, else the
    only one the member may use."""
    if not cards.connection_needed(integration):
        return None, None
    usable = cards.usable_connections(request, integration)
    raw = post.get("connection")
    wanted = int(raw) if raw and raw.isdigit() else (None if raw == "" else current_id)
    chosen = next((c for c in usable if c.pk == wanted), None)
    if chosen is None and raw is None and len(usable) == 1:
        chosen = usable[0]
    return (chosen.pk, chosen.label) if chosen else (None, None)


def _reshapes(declaration, old: dict, new: dict) -> bool:
    """Whether a config change changes which controls the card shows."""
    changed = {k for k in set(old) | set(new) if old.get(k) != new.get(k)}
    if not changed:
        return False
    if getattr(declaration, "fields_provider", None) is not None:
        return True
    parents = {key for f in declaration.fields for key in f.depends_on}
    return bool(changed & parents)


@member_required
@require_POST
def save_step(request, pk: int, key: str):
    recipe, _draft, index, step = editable_step(request, pk, key)
    post = request.POST
    app = post.get("app", step.get("app") or "")
    action_key = post.get("action", step.get("action") or "")
    if post.get("change") == "app":
        app, action_key = "", ""
    elif post.get("change") == "action":
        action_key = ""
    integration, action = cards.find(app, action_key)
    app = integration.slug if integration else ""
    action_key = action.key if action else ""
    same_action = (app, action_key) == (step.get("app") or "", step.get("action") or "")
    reshaped = not same_action
    old_config = step.get("config") or {}
    values = {"app": app, "action": action_key, "name": post.get("name", step.get("name", ""))}
    values["name"] = (values["name"] or "").strip()[:100]
    errors: dict[str, str] = {}
    config: dict = {}
    if action is not None:
        connection_id, label = _connection(request, integration, post, step.get("connection_id"))
        reshaped |= connection_id != step.get("connection_id")
        values.update(connection_id=connection_id, connection=label)
        if same_action:
            config = _read(
                request, recipe, integration, action, connection_id, post, old_config, errors
            )
            reshaped |= bool(errors) or _reshapes(action, old_config, config) or "add_row" in post
            reshaped |= any(name.startswith(("remove.", "switch.")) for name in post)
    values["config"] = config
    recipe = drafts.save_step(recipe, key, values)
    drafts.keep_choice_labels(recipe, key, editor_fields.posted_labels(post))
    if action is not None and not step.get("action") and PLACEHOLDER_KEY.match(key):
        # Nothing can refer to a step that did nothing yet: give it a key that says what it
        # does, so a recipe file reads "steps.send_message.ts", not "steps.step_2.ts".
        recipe, key = drafts.rekey(recipe, key, action.key)
        index, _step = drafts.find_step(recipe.draft, key)
    if not reshaped:
        return answer(request, recipe, None, None)
    context = step_context(
        request,
        recipe,
        draft_of(recipe),
        index,
        drafts.samples(recipe),
        ui=editor_conditions.ui_of(post),
    )
    context["focus"] = not same_action
    return answer(request, recipe, "step_card", {"c": with_errors(context, errors)})


def _read(request, recipe, integration, action, connection_id, post, old, errors) -> dict:
    connection = (
        next(
            (c for c in cards.usable_connections(request, integration) if c.pk == connection_id),
            None,
        )
        if connection_id
        else None
    )
    fields = list(action.fields) + cards.provided_fields(
        request, integration, action, connection, old
    )
    config, found = editor_fields.read_config(fields, post, old, recipe.workspace_id)
    errors.update(found)
    return config


@member_required
@require_POST
def save_trigger(request, pk: int):
    recipe = editable(request, pk)
    draft = draft_of(recipe)
    trigger = draft.get("trigger") or {"app": "manual"}
    post = request.POST
    if post.get("change") == "app":
        recipe = drafts.set_trigger(recipe, {**trigger, "choose": True})
        return _trigger_answer(request, recipe)
    app = post.get("app", trigger.get("app", "manual"))
    event = post.get("event", trigger.get("event"))
    if post.get("change") == "event":
        event = None
    integration, declared = cards.find(
        app, event if post.get("change") != "event" else "", trigger=True
    )
    if integration is None:
        return _trigger_answer(request, recipe)
    new = {"app": integration.slug}
    reshaped = integration.slug != trigger.get("app") or bool(trigger.get("choose"))
    if declared is not None:
        new["event"] = declared.key
        reshaped |= declared.key != trigger.get("event")
        connection_id, label = _connection(request, integration, post, trigger.get("connection_id"))
        if connection_id:
            new.update(connection_id=connection_id, connection=label)
        reshaped |= connection_id != trigger.get("connection_id")
        same = not reshaped
        old = (trigger.get("config") or {}) if same else {}
        config, errors = editor_fields.read_config(declared.fields, post, old, recipe.workspace_id)
        if config:
            new["config"] = config
        reshaped |= bool(errors) or _reshapes(declared, old, config)
    else:
        same, errors = False, {}
    recipe = drafts.set_trigger(recipe, new)
    drafts.keep_choice_labels(recipe, "trigger", editor_fields.posted_labels(post))
    if not reshaped:
        return answer(request, recipe, None, None)
    return _trigger_answer(request, recipe, errors, focus=not same)


def _trigger_answer(request, recipe, errors=None, focus=True):
    context = trigger_context(request, recipe, draft_of(recipe), drafts.samples(recipe))
    context["focus"] = focus
    return answer(request, recipe, "trigger_card", {"c": with_errors(context, errors or {})})


@member_required
@require_POST
def publish(request, pk: int):
    recipe = editable(request, pk)
    problems = cards.problems(request, draft_of(recipe))
    context = {"recipe": recipe, "problems": problems, "focus_problems": bool(problems)}
    if not problems:
        # A draft that passes fewer test cases than the live version asks first.
        held = publish_check.gate(request, recipe, context)
        if held is not None:
            return held
        try:
            context["version"] = recipe_services.publish_recipe(recipe, user=request.user)
        except RecipeFormatError as error:
            draft = draft_of(recipe)
            context["problems"] = [cards.locate(draft, p) for p in error.problems]
            context["focus_problems"] = True
        recipe.refresh_from_db()
    return render(request, f"{PAGE}#publish_panel", context)
