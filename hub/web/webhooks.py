"""Webhook intake: ``POST /hooks/<recipe public id>/<secret>``, or ``POST /hooks/<public id>``
with the secret in an ``X-Hook-Secret`` header (which keeps it out of URLs that proxies log).

The JSON body becomes the run's trigger data (a body that is not an object arrives as
``{"body": …}``). Answers quickly: the run is inserted and enqueued on commit, and the
response is ``202 {"run_id": …}``. A wrong id or secret is a 404 (nothing to probe); a
malformed body (NaN and infinite numbers included) is a 400 and an oversized one a 413, each
with a reason. When the hub's disk is (nearly) full, or its database cannot be reached, the
answer is a 503 with Retry-After: nothing is accepted that could not be recorded. A sender
may set ``Idempotency-Key``: the same key for the same recipe starts one run only.

While Test trigger in the editor waits for a call (hub/recipes/webhook_test.py), the next one
becomes the trigger's sample; a recipe that is not on then answers ``202 {"test": true}`` and
starts nothing, one that is on also starts its run as usual.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError
from django.db.models import Case, Q, Value, When
from django.http import JsonResponse
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from hub.engine.compiled_sql import CompiledQuery
from hub.engine.intake import parse_data
from hub.engine.models import Run
from hub.engine.runs import start_run
from hub.recipes import webhook_test
from hub.recipes.models import Recipe, RecipeVersion
from hub.system import disk

# The recipe behind a webhook address, in one statement built once: the intake runs it for
# every request (hub/engine/compiled_sql.py). A recipe has an address while its published
# trigger is a webhook ("live"), or while Test trigger in the editor waits for a call to its
# draft's webhook ("listening"); otherwise it has none, like an unknown one.
# In the model's field order, as Model.from_db reads them.
_HOOK_FIELDS = ["id", "workspace_id", "state", "current_version_id", "webhook_secret"]
_LIVE = Q(current_version__document__trigger__app="webhook")
_HOOK = CompiledQuery(
    lambda public_id: (
        Recipe.objects.filter(Q(public_id=public_id) & (_LIVE | Q(webhook_test_from__isnull=False)))
        .annotate(
            live=Case(When(_LIVE, then=Value(1)), default=Value(0)),
            listening=Case(When(webhook_test_from__isnull=False, then=Value(1)), default=Value(0)),
        )
        .order_by()
        .values_list(*_HOOK_FIELDS, "live", "listening")[:1]
    )
)


def _error(status: int, reason: str) -> JsonResponse:
    return JsonResponse({"error": reason}, status=status)


def _unavailable() -> JsonResponse:
    # The database is restarting or unreachable: refused, so the sender sends it again.
    response = _error(
        503, "The hub cannot reach its database; nothing was started. Send it again later."
    )
    response["Retry-After"] = "30"
    return response


def _disk_full() -> JsonResponse:
    # Refused, not lost: the sender keeps the webhook and sends it again.
    response = _error(
        503, "The hub is out of disk space; nothing was started. Send it again later."
    )
    response["Retry-After"] = "60"
    return response


READ_CHUNK_BYTES = 64 * 1024


class LengthRequired(Exception):
    pass


def _read_body(request) -> bytes | None:
    """The whole body, or None when it is larger than the cap.

    A chunked body has no Content-Length, and Django then reads nothing from it: it is read
    from the server's input to its end instead, where the server says that is safe
    (``wsgi.input_terminated``: gunicorn decodes the chunks and ends the stream). Either way
    reading stops one byte past the cap, so an oversized body is never held in full.
    """
    limit = settings.ENGINE_WEBHOOK_MAX_BYTES
    declared = request.META.get("CONTENT_LENGTH")
    if declared:
        try:
            if int(declared) > limit:
                return None
        except ValueError:
            pass
        stream = request
    elif request.META.get("wsgi.input_terminated"):
        stream = request.META["wsgi.input"]
    elif "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
        raise LengthRequired
    else:
        return b""
    chunks, size = [], 0
    while size <= limit:
        chunk = stream.read(min(READ_CHUNK_BYTES, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return None if size > limit else b"".join(chunks)


@csrf_exempt
@require_POST
def catch(request, public_id: str, secret: str | None = None):
    if secret is None:
        secret = request.headers.get("X-Hook-Secret", "")
    try:
        row = _HOOK.first(public_id)
    except (OperationalError, InterfaceError):
        return _unavailable()
    # Compare even when the recipe is unknown, so timing does not tell which part was wrong.
    expected = row[len(_HOOK_FIELDS) - 1] if row else "x" * 32
    if not hmac.compare_digest(expected.encode(), secret.encode()) or row is None:
        return _error(404, "There is no webhook at this address.")
    live, listening = row[len(_HOOK_FIELDS) :]
    recipe = Recipe.from_db("default", _HOOK_FIELDS, row[: len(_HOOK_FIELDS)])
    runs = live and recipe.state == Recipe.State.ACTIVE
    if not runs and not listening:
        return _error(409, "The recipe is paused; nothing was started.")
    try:
        body = _read_body(request)
    except LengthRequired:
        return _error(
            411, "This server cannot read a chunked body: send it with a Content-Length header."
        )
    if body is None:
        limit_kb = settings.ENGINE_WEBHOOK_MAX_BYTES // 1024
        return _error(413, f"The body is larger than {limit_kb} KB.")
    if body.strip():
        try:
            # The webhook API answers in English, like its other reasons.
            with translation.override("en"):
                data = parse_data(body)
        except ValueError as error:  # bad syntax, bad UTF-8, NaN, inf, an unreadable number
            return _error(400, f"The body is not valid JSON: {error}")
    else:
        data = {}
    if not isinstance(data, dict):
        data = {"body": data}
    tested = bool(listening) and webhook_test.take_call(recipe.pk, data)
    if not runs:
        if tested:
            return JsonResponse(
                {"test": True, "detail": "The editor received this call as its test data."},
                status=202,
            )
        if live:
            return _error(409, "The recipe is paused; nothing was started.")
        # The test's window closed: the address is as unknown as it was before it opened.
        return _error(404, "There is no webhook at this address.")
    version = RecipeVersion.from_db("default", ["id"], [recipe.current_version_id])
    key = request.headers.get("Idempotency-Key", "").strip()[:120]
    dedupe = f"webhook:{recipe.pk}:{key}" if key else None
    if disk.low_on_space():
        return _disk_full()
    try:
        run = start_run(recipe, Run.Source.WEBHOOK, data, dedupe_key=dedupe, version=version)
    except (DatabaseError, OSError) as error:
        if disk.is_disk_full(error):
            return _disk_full()
        if isinstance(error, OperationalError | InterfaceError):
            return _unavailable()
        raise
    if run is None:
        existing = Run.objects.filter(dedupe_key=dedupe).values_list("id", flat=True).first()
        return JsonResponse({"run_id": existing, "duplicate": True}, status=200)
    return JsonResponse({"run_id": run.pk}, status=202)
