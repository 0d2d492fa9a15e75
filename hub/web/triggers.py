"""A recipe's app trigger on its page: Test trigger (the newest real items, to map from), the
poll's health (failures, a fresh start after a changed trigger) and, for admins, how often
it polls. Scoped to the current workspace: another workspace's recipe is a 404."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hub.connections.models import Connection
from hub.engine import polling
from hub.engine.models import TriggerState
from hub.recipes import format as recipe_format
from hub.recipes.format import RecipeFormatError
from hub.recipes.models import Recipe
from hub.recipes.services import resolve_connections
from hub.web.decorators import member_required, require_admin
from integrations.base import IntegrationError


def panel(request, recipe: Recipe, document: dict) -> dict:
    """What the recipe page shows about a polled trigger (merged into its context)."""
    trigger = (document or {}).get("trigger") or {}
    found = polling.find_trigger(trigger)
    state = TriggerState.objects.filter(recipe=recipe, kind=TriggerState.POLL).first()
    return {
        "poll_state": state,
        "poll_minutes": (state and state.interval_minutes) or settings.TRIGGER_POLL_MINUTES,
        "poll_app": found[0].name if found else "",
        "trigger_label": str(found[1].label) if found else "",
        "may_test_trigger": bool(
            found and (found[1].poll or found[1].instant) and _may_use(request, trigger)
        ),
        "poll_minute_choices": range(1, 16),
    }


def _may_use(request, trigger: dict) -> bool:
    connection_id = trigger.get("connection_id")
    if not connection_id:
        return False
    usable = Connection.objects.usable_by(request.user, request.workspace)
    return usable.filter(pk=connection_id).exists()


def _trigger_to_test(request, recipe: Recipe) -> dict:
    """The trigger of the request's JSON body (the editor's unsaved trigger), else of the
    draft, else of the published version — with its connection resolved in this workspace."""
    trigger = None
    if request.content_type == "application/json":
        try:
            trigger = (json.loads(request.body or b"{}") or {}).get("trigger")
        except (ValueError, AttributeError):
            trigger = None
    source = recipe.draft or (recipe.current_version.document if recipe.current_version else {})
    document = {"format": recipe_format.FORMAT, "name": recipe.name, "steps": []}
    document["trigger"] = trigger if isinstance(trigger, dict) else source.get("trigger")
    normalized = recipe_format.normalize(document)
    return resolve_connections(request.workspace, normalized)["trigger"]


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "") or (
        request.content_type == "application/json"
    )


@member_required
@require_POST
def test_trigger(request, pk: int):
    """POST /recipes/<id>/trigger/test/: the newest few real items, as labelled values (or
    JSON: {"ok", "items": [{"id", "data"}], "fields": [{"key", "label"}], "error"})."""
    recipe = get_object_or_404(Recipe, pk=pk, workspace=request.workspace)
    try:
        trigger = _trigger_to_test(request, recipe)
    except RecipeFormatError as error:
        return _answer(request, recipe, error="; ".join(str(p) for p in error.problems))
    found = polling.find_trigger(trigger)
    if found is None or not (found[1].poll or found[1].instant):
        return _answer(request, recipe, error=_("This trigger has no items to fetch."))
    if not _may_use(request, trigger):
        message = _(
            "Choose a connection that is shared with you for the trigger, or ask an admin to "
            "share “%(label)s” with you."
        ) % {"label": trigger.get("connection") or "—"}
        return _answer(request, recipe, error=message, status=403)
    try:
        items = polling.test_poll(request.workspace.pk, trigger, recipe=recipe)
    except IntegrationError as error:
        return _answer(request, recipe, error=error.message)
    fields = [{"key": o.key, "label": str(o.label)} for o in found[1].outputs]
    return _answer(request, recipe, items=[{"id": i.id, "data": i.data} for i in items],
                   fields=fields)  # fmt: skip


def _answer(request, recipe, *, items=None, fields=None, error="", status=200):
    if _wants_json(request):
        body = {"ok": not error, "items": items or [], "fields": fields or [], "error": error}
        return JsonResponse(body, status=status)
    rows = [
        {"id": item["id"], "values": [(f["label"], item["data"].get(f["key"])) for f in fields]}
        for item in items or []
    ]
    context = {"recipe": recipe, "rows": rows, "error": error}
    template = (
        "recipes/_test_trigger.html"
        if request.headers.get("HX-Request")
        else ("recipes/test_trigger.html")
    )
    return render(request, template, context, status=status)


@member_required
@require_POST
def poll_interval(request, pk: int):
    """POST /recipes/<id>/trigger/interval/ (admins): minutes between polls, 1 to 15."""
    recipe = get_object_or_404(Recipe, pk=pk, workspace=request.workspace)
    require_admin(request)
    try:
        minutes = int(request.POST.get("minutes", ""))
    except ValueError:
        minutes = 0
    if not 1 <= minutes <= 15:
        messages.error(request, _("Choose from 1 to 15 minutes between checks."))
        return redirect("recipe_detail", recipe.pk)
    if not polling.set_interval(recipe.pk, minutes):
        messages.error(request, _("This recipe's trigger is not checked on a timer."))
        return redirect("recipe_detail", recipe.pk)
    messages.success(request, _("It now checks every %(n)s minutes.") % {"n": minutes})
    return redirect("recipe_detail", recipe.pk)
