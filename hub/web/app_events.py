"""Where apps push events: ``POST /apps/slack/events`` (Slack's Events API, one address for
the whole deployment) and ``POST /apps/clickup/webhooks/<token>/`` (one per recipe's ClickUp
webhook).

Order matters and is the same for both: read the body within the cap, check the signature over
the raw bytes, and only then parse it and store anything. The runs are inserted before the
answer (``hub/engine/app_events.py``), so an event answered 200 is never lost, and the same
event again starts nothing new. Refusals say why, in English like the hub's other machine-
facing answers: 401 for a bad or stale signature, 404 for a team or address the hub does not
know (nothing stored), 413 for an oversized body, 400 for a body that is not JSON.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import JsonResponse
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from hub.engine import app_events
from hub.engine.intake import parse_data
from hub.web.webhooks import LengthRequired, _read_body
from integrations.clickup import webhooks as clickup_webhooks
from integrations.slack import events as slack_events

log = logging.getLogger(__name__)


def _refuse(status: int, reason) -> JsonResponse:
    return JsonResponse({"ok": False, "error": str(reason)}, status=status)


def _body(request) -> bytes | JsonResponse:
    try:
        body = _read_body(request)
    except LengthRequired:
        return _refuse(411, "Send the body with a Content-Length header.")
    if body is None:
        return _refuse(
            413, f"The body is larger than {settings.ENGINE_WEBHOOK_MAX_BYTES // 1024} KB."
        )
    return body


def _json(body: bytes):
    try:
        data = parse_data(body)
    except ValueError as error:
        return None, _refuse(400, f"The body is not valid JSON: {error}")
    if not isinstance(data, dict):
        return None, _refuse(400, "The body must be a JSON object.")
    return data, None


@csrf_exempt
@require_POST
def slack_events_view(request):
    with translation.override("en"):
        body = _body(request)
        if isinstance(body, JsonResponse):
            return body
        try:
            slack_events.verify(app_events.iter_signing_secrets(), request.headers, body)
        except slack_events.Refused as refused:
            return _refuse(401, refused.reason)
        envelope, error = _json(body)
        if error is not None:
            return error
        kind = envelope.get("type")
        if kind == "url_verification":
            return JsonResponse({"challenge": str(envelope.get("challenge") or "")})
        if kind != "event_callback":
            return JsonResponse({"ok": True, "ignored": str(kind or "")})
        try:
            started = app_events.route_slack_event(envelope)
        except app_events.NotFound:
            return _refuse(404, "No connection of this hub is for that Slack workspace.")
        retry = request.headers.get("X-Slack-Retry-Num")
        if retry and not started:
            log.info("Slack retry %s of %s: already accepted", retry, envelope.get("event_id"))
        return JsonResponse({"ok": True, "runs": started})


@csrf_exempt
@require_POST
def app_webhook(request, app: str, token: str):
    with translation.override("en"):
        if app != "clickup":
            return _refuse(404, "There is no webhook at this address.")
        try:
            subscription = app_events.clickup_subscription(token)
        except app_events.NotFound:
            return _refuse(404, "There is no webhook at this address.")
        body = _body(request)
        if isinstance(body, JsonResponse):
            return body
        signature = request.headers.get("X-Signature", "")
        if not subscription.secret or not clickup_webhooks.signed(
            subscription.secret, body, signature
        ):
            return _refuse(401, "The X-Signature header does not match this webhook's secret.")
        delivery, error = _json(body)
        if error is not None:
            return error
        run_id = app_events.clickup_delivery(subscription, delivery)
        return JsonResponse({"ok": True, "run_id": run_id})
