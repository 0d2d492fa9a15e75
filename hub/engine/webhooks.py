"""Webhook intake: ``POST /hooks/<recipe public id>/<secret>``.

The JSON body becomes the run's trigger data (a body that is not an object arrives as
``{"body": …}``). Answers quickly: the run is inserted and enqueued on commit, and the
response is ``202 {"run_id": …}``. A wrong id or secret is a 404 (nothing to probe); a
malformed body is a 400 and an oversized one a 413, each with a reason. A sender may set
``Idempotency-Key``: the same key for the same recipe starts one run only.
"""

from __future__ import annotations

import hmac
import json

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from hub.engine.models import Run
from hub.engine.runs import start_run
from hub.recipes.models import Recipe


def _error(status: int, reason: str) -> JsonResponse:
    return JsonResponse({"error": reason}, status=status)


def _read_body(request) -> bytes | None:
    """The body, or None when it is larger than the cap (checked before reading it all)."""
    limit = settings.ENGINE_WEBHOOK_MAX_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return None
    body = request.read(limit + 1)
    return None if len(body) > limit else body


@csrf_exempt
@require_POST
def catch(request, public_id: str, secret: str):
    recipe = Recipe.objects.select_related("current_version").filter(public_id=public_id).first()
    # Compare even when the recipe is unknown, so timing does not tell which part was wrong.
    expected = recipe.webhook_secret if recipe else "x" * 32
    if not hmac.compare_digest(expected.encode(), secret.encode()) or recipe is None:
        return _error(404, "There is no webhook at this address.")
    version = recipe.current_version
    if version is None or version.trigger.get("app") != "webhook":
        return _error(404, "There is no webhook at this address.")
    if recipe.state != Recipe.State.ACTIVE:
        return _error(409, "The recipe is paused; nothing was started.")
    body = _read_body(request)
    if body is None:
        limit_kb = settings.ENGINE_WEBHOOK_MAX_BYTES // 1024
        return _error(413, f"The body is larger than {limit_kb} KB.")
    if body.strip():
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            return _error(400, f"The body is not valid JSON: {error}")
    else:
        data = {}
    if not isinstance(data, dict):
        data = {"body": data}
    key = request.headers.get("Idempotency-Key", "").strip()[:120]
    dedupe = f"webhook:{recipe.pk}:{key}" if key else None
    run = start_run(recipe, Run.Source.WEBHOOK, data, dedupe_key=dedupe, version=version)
    if run is None:
        existing = Run.objects.filter(dedupe_key=dedupe).values_list("id", flat=True).first()
        return JsonResponse({"run_id": existing, "duplicate": True}, status=200)
    return JsonResponse({"run_id": run.pk}, status=202)
