"""Test trigger and Test step in the editor.

A read action runs for real. A write or destructive action shows its preview — exactly the
request it would send after mapping, nothing sent — and runs only when the member presses
the separate, confirmed "Send for real". Every result is kept as the step's sample data,
which the Insert data picker offers to later steps and Test step maps later steps with.
Tests run through the member's own permitted connections only.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from hub import mapping
from hub.engine import polling, schedule, secrets
from hub.engine.intake import parse_data
from hub.recipes import drafts, webhook_test
from hub.web import editor_cards as cards
from hub.web import preview_summary
from hub.web.decorators import member_required
from hub.web.editor_context import PAGE, draft_of, editable, editable_step
from integrations.base import Context, IntegrationError, StopRun, WaitUntil

TEST_ITEMS = 3


def sample_data(recipe, draft: dict, upto: int, samples: dict) -> dict:
    """The data a step sees in a test: the trigger's and earlier steps' sample outputs."""
    trigger = draft.get("trigger") or {}
    _integration, declared = cards.find(trigger.get("app"), trigger.get("event"), trigger=True)
    tested = samples.get("trigger")
    if tested and tested.output is not None:
        trigger_data = tested.output
    else:
        trigger_data = dict(declared.sample) if declared else {}
    steps = {}
    for step in draft["steps"][:upto]:
        _i, action = cards.find(step.get("app"), step.get("action"))
        kept = samples.get(step["key"])
        if kept and kept.tested_at:
            steps[step["key"]] = kept.output
        elif action is not None:
            steps[step["key"]] = dict(action.sample)
    return {"trigger": trigger_data, "steps": steps, "run": {"id": 0, "recipe": recipe.name}}


def _connection(request, integration, chosen_id):
    if not cards.connection_needed(integration):
        return None
    found = next(
        (c for c in cards.usable_connections(request, integration) if c.pk == chosen_id), None
    )
    if found is None:
        raise IntegrationError(_("Choose a connection for this step first."), permanent=True)
    return found


def _zone(draft: dict) -> str:
    return draft.get("timezone") or getattr(settings, "TIME_ZONE", "UTC") or "UTC"


@member_required
@require_POST
def test_step(request, pk: int, key: str):
    recipe, draft, index, step = editable_step(request, pk, key)
    integration, action = cards.find(step.get("app"), step.get("action"))
    if action is None:
        raise Http404
    send = request.POST.get("send") == "1"
    context = {"card": f"step-{key}", "test_url": reverse("editor_test_step", args=[pk, key])}
    context["effect"] = action.effect
    try:
        known = drafts.samples(recipe)
        data = sample_data(recipe, draft, index, known)
        config = mapping.render(step.get("config") or {}, data)
        config = secrets.reveal(step, config, recipe.workspace_id)
        ctx = Context(
            workspace_id=recipe.workspace_id,
            config=config,
            connection=_connection(request, integration, step.get("connection_id")),
            step_key=key,
            integration=integration,
            timezone=_zone(draft),
            recipe_id=recipe.pk,
            member_id=request.user.pk,
        )
        if action.effect == "read" or send:
            with integration.errors():
                output = action.run(ctx)
            drafts.keep_sample(recipe, key, output)
            context.update(result="output", output=output, sent=send)
        elif action.preview is not None:
            with integration.errors():
                context.update(result="preview", preview=action.preview(ctx))
            sample = known.get(key)
            context["summary"] = preview_summary.summary(
                action.fields, config, (sample.choice_labels if sample else None) or {}
            )
            context["app_name"] = integration.name
        else:
            context.update(result="no_preview")
    except mapping.MappingError as error:
        context.update(result="error", error=error.message)
    except IntegrationError as error:
        context.update(result="error", error=error.message)
    except StopRun as stop:
        drafts.keep_sample(recipe, key, {"passed": False})
        context.update(result="stopped", reason=stop.reason)
    except WaitUntil as wait:
        drafts.keep_sample(recipe, key, wait.output or {})
        context.update(result="waits", until=wait.resume_at)
    return render(request, f"{PAGE}#test_result", context)


@member_required
@require_POST
def test_trigger(request, pk: int):
    recipe = editable(request, pk)
    draft = draft_of(recipe)
    trigger = draft.get("trigger") or {"app": "manual"}
    integration, declared = cards.find(trigger.get("app"), trigger.get("event"), trigger=True)
    if declared is None:
        raise Http404
    context = {"card": "trigger", "test_url": reverse("editor_test_trigger", args=[pk])}
    try:
        if trigger.get("app") == "schedule":
            context.update(_schedule_test(recipe, declared, trigger))
        elif declared.poll is not None or declared.instant:
            context.update(_poll_test(request, recipe, integration, declared, trigger, draft))
        else:
            context.update(_data_test(request, recipe, trigger))
    except (IntegrationError, schedule.ScheduleError) as error:
        context.update(result="error", error=getattr(error, "message", str(error)))
    return render(request, f"{PAGE}#test_result", context)


def _schedule_test(recipe, declared, trigger) -> dict:
    config = schedule.normalize(declared.key, trigger.get("config") or {})
    times, after = [], datetime.now(UTC)
    for _n in range(TEST_ITEMS):
        after = schedule.next_fire(config, after)
        times.append(after)
        after += timedelta(seconds=1)
    zone = config.get("timezone", "UTC")
    first = times[0].isoformat()
    drafts.keep_sample(
        recipe, "trigger", {"scheduled_at": first, "fired_at": first, "timezone": zone}
    )
    return {"result": "schedule", "times": times, "zone": zone}


def _poll_test(request, recipe, integration, declared, trigger, draft) -> dict:
    """The same call Test trigger on the recipe page makes (``polling.test_poll``), with the
    draft's trigger and a connection this member may use."""
    connection = _connection(request, integration, trigger.get("connection_id"))
    found = polling.test_poll(
        recipe.workspace_id, trigger, TEST_ITEMS, recipe=recipe, connection=connection
    )
    items = [item.data for item in found]
    if items:
        drafts.keep_sample(recipe, "trigger", items[0])
    return {"result": "items", "items": items}


def _data_test(request, recipe, trigger) -> dict:
    """Run now and webhook triggers carry whatever the caller sends: the member types an
    example, or (webhook) the editor waits for the next call to the recipe's address."""
    raw = request.POST.get("data", "").strip()
    if raw:
        try:
            data = parse_data(raw)
        except (json.JSONDecodeError, ValueError):
            return {
                "result": "error",
                "error": _('The example is not valid JSON, such as {"name": "Ada"}.'),
            }
        drafts.keep_sample(recipe, "trigger", data)
        return {"result": "output", "output": data}
    if trigger.get("app") == "webhook":
        return _listening(request, recipe, webhook_test.listen(recipe))
    return {"result": "waiting"}


def _listening(request, recipe, since: datetime) -> dict:
    address = reverse("webhook", args=[recipe.public_id, recipe.webhook_secret])
    wait_url = reverse("editor_test_trigger_wait", args=[recipe.pk])
    return {
        "result": "listening",
        "webhook_url": request.build_absolute_uri(address),
        "wait_url": f"{wait_url}?{urlencode({'since': since.isoformat()})}",
        "poll_seconds": webhook_test.POLL_SECONDS,
        "wait_minutes": int(webhook_test.WAIT.total_seconds() // 60),
    }


@member_required
@require_GET
def wait_for_call(request, pk: int):
    """One poll of a waiting webhook test: nothing to swap (204) until the call arrives,
    then its data; after the wait's window, "No call yet" with Try again."""
    recipe = editable(request, pk)
    since = parse_datetime(request.GET.get("since", ""))
    if since is None or since.tzinfo is None:
        return HttpResponseBadRequest("since: the time the test started, as ISO 8601.")
    context = {"card": "trigger", "test_url": reverse("editor_test_trigger", args=[pk])}
    sample = webhook_test.heard(recipe, since)
    if sample is not None:
        context.update(result="output", output=sample.output, heard=True)
    elif webhook_test.expired(since):
        context.update(result="no_call")
    else:
        return HttpResponse(status=204)
    return render(request, f"{PAGE}#test_result", context)
