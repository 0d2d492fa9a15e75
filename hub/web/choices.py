"""The editor's choices endpoint: one page of a field's choices, through a connection of the
current workspace that the member may use.

``GET /recipes/choices/?app=&action=|trigger=&field=&connection=&search=&page=&config.<key>=``
answers ``{"choices": [{"value", "label"}], "next_page"}``. ``field`` may name a row
sub-field (``filters.property``); ``config.<key>`` carries the values of the field's
``depends_on`` fields; a field that the step's fields provider adds (from those values) is
found through the provider. When one of those is empty, or is a ``{{ }}`` reference (its
value only exists during a run), the answer has no choices, ``waiting_for`` (the field's key) and a
``message`` saying so. Another workspace's connection is a 404, one the member may not use a
403. Live answers are cached for ``CHOICES_CACHE_SECONDS`` per connection, field, search, page
and depends-on values in Django's cache (per process with the default LocMemCache); the
permission check runs before the cache is read.
"""

from __future__ import annotations

import hashlib
import json
import math

from django.conf import settings
from django.core.cache import cache
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from hub.connections.models import Connection
from hub.web.decorators import member_required
from integrations import registry
from integrations.base import ChoicePage, Context, Field, IntegrationError

MAX_SEARCH = 200
MAX_PAGE_TOKEN = 1000


def _error(status: int, message: str, **headers: str) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


def _answer(page: ChoicePage) -> dict:
    return {
        "choices": [{"value": c.value, "label": str(c.label)} for c in page.choices],
        "next_page": page.next_page,
    }


def _find_field(declaration, path: str) -> tuple[Field | None, tuple[Field, ...]]:
    """The field ``path`` names and the fields its ``depends_on`` may name."""
    top, _dot, sub = path.partition(".")
    found = next((f for f in declaration.fields if f.key == top), None)
    if found is None or not sub:
        return found, declaration.fields
    return found.sub_field(sub), declaration.fields + found.row


def _waiting(field: Field, siblings: tuple[Field, ...], config: dict) -> dict | None:
    for key in field.depends_on:
        other = next((f for f in siblings if f.key == key), None)
        label = str(other.label) if other else key
        value = config.get(key)
        if value in (None, "", []):
            message = _("Choose “%(label)s” first.") % {"label": label}
        elif "{{" in json.dumps(value, ensure_ascii=False):
            message = _(
                "“%(label)s” comes from an earlier step, so its choices cannot be listed "
                "here: type the value instead, or choose “%(label)s” from the list."
            ) % {"label": label}
        else:
            continue
        return {"choices": [], "next_page": None, "waiting_for": key, "message": message}
    return None


def _config(request) -> dict:
    config = {}
    for name in request.GET:
        if name.startswith("config."):
            values = request.GET.getlist(name)
            config[name.removeprefix("config.")] = values[0] if len(values) == 1 else values
    return config


@member_required
@require_GET
def field_choices(request):
    params = request.GET
    try:
        integration = registry.get(params.get("app", ""))
    except IntegrationError:
        return _error(404, _("There is no such app."))
    if params.get("trigger"):
        declaration = integration.triggers.get(params["trigger"])
    else:
        declaration = integration.actions.get(params.get("action", ""))
    if declaration is None:
        return _error(404, _("%(app)s has no such step.") % {"app": integration.name})
    field, siblings = _find_field(declaration, params.get("field", ""))
    if field is None and getattr(declaration, "fields_provider", None) is not None:
        field, siblings, refusal = _provided_field(request, integration, declaration)
        if refusal is not None:
            return refusal
    if field is None:
        return _error(404, _("This step has no such field."))
    if not field.has_choices:
        return _error(400, _("This field has no choices to list."))
    search = params.get("search", "")[:MAX_SEARCH]
    if not field.dynamic_choices:
        needle = search.strip().lower()
        found = [c for c in field.choices if needle in f"{c.value} {c.label}".lower()]
        return JsonResponse(_answer(ChoicePage(found)))

    connection, refusal = _connection(request, integration.slug)
    if refusal is not None:
        return refusal
    config = _config(request)
    waiting = _waiting(field, siblings, config)
    if waiting is not None:
        return JsonResponse(waiting)
    page = params.get("page") or None
    if page is not None and len(page) > MAX_PAGE_TOKEN:
        return _error(400, _("That page of choices does not exist."))
    depends = {key: config.get(key) for key in field.depends_on}
    step = params.get("trigger") or params.get("action")
    key_parts = [connection.pk, integration.slug, step, params.get("field"), search, page, depends]
    digest = hashlib.sha256(json.dumps(key_parts, sort_keys=True, default=str).encode())
    cache_key = f"hub:choices:{digest.hexdigest()}"
    # The editor's Refresh button asks past the cache (a channel created a moment ago).
    answer = None if params.get("refresh") else cache.get(cache_key)
    if answer is None:
        ctx = Context(
            workspace_id=request.workspace.id,
            config=depends,
            connection=connection,
            integration=integration,
        )
        try:
            answer = _answer(field.dynamic_choices(ctx, search, page))
        except IntegrationError as error:
            if error.retryable:
                wait = str(math.ceil(error.retry_after)) if error.retry_after else "1"
                return _error(503, error.message, **{"Retry-After": wait})
            return _error(502, error.message)
        cache.set(cache_key, answer, settings.CHOICES_CACHE_SECONDS)
    return JsonResponse(answer)


def _provided_field(request, integration, declaration):
    """A field the step's fields provider adds from earlier choices (a Notion database's
    "Owner" people picker): asked of the provider with the ``config.<key>`` values given."""
    connection, refusal = _connection(request, integration.slug)
    if refusal is not None:
        return None, (), refusal
    ctx = Context(
        workspace_id=request.workspace.id,
        config=_config(request),
        connection=connection,
        integration=integration,
    )
    try:
        provided = tuple(declaration.fields_provider(ctx))
    except IntegrationError as error:
        if error.retryable:
            wait = str(math.ceil(error.retry_after)) if error.retry_after else "1"
            return None, (), _error(503, error.message, **{"Retry-After": wait})
        return None, (), _error(502, error.message)
    found = next((f for f in provided if f.key == request.GET.get("field")), None)
    return found, declaration.fields + provided, None


def _connection(request, slug: str) -> tuple[Connection | None, JsonResponse | None]:
    raw = request.GET.get("connection", "")
    if not raw:
        return None, _error(400, _("Choose a connection first."))
    if not raw.isdigit():
        return None, _error(400, _("That is not a connection."))
    connection = Connection.objects.filter(
        pk=int(raw), workspace=request.workspace, integration=slug
    ).first()
    if connection is None:
        return None, _error(404, _("There is no such connection in this workspace."))
    if not connection.usable_by_user(request.user):
        message = _("This connection is not shared with you. Ask an admin to share it.")
        return None, _error(403, message)
    return connection, None
