"""Polling triggers, the hub's side: which recipes poll, when, and firing each new item once.

Any ``Trigger`` with a ``poll`` function is polled (an instant trigger only where the hub has
no public address to receive its events). The tick sends each due poll as its own Celery
task (``dispatch_due``); the task (``poll_trigger``) locks the trigger's state row, calls the
poll with the stored cursor and the ids fired recently, and — in the same transaction —
inserts one run per new item (``dedupe_key = trigger:<recipe>:<item id>``), stores the new
cursor and remembers the ids. A crash anywhere before the commit leaves the old cursor, so
the next poll repeats the work and nothing is skipped; the unique key means a repeat never
fires twice. docs/engine.md, "Polling triggers", gives the policy.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import random
import time
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import connection as db
from django.db import transaction
from django.utils import timezone

from hub.engine.app_events import instant_ready, recent_events
from hub.engine.models import Run, TriggerState
from hub.engine.poll_faults import record_failure, record_success
from hub.engine.step_connections import (
    _pause_version,
    mark_broken,
    publisher_may_not_use,
    refresh,
    resolve_connection,
)
from integrations import registry
from integrations.base import Context, IntegrationError, PollItem, PollRequest, Trigger

log = logging.getLogger(__name__)

POLL_TRIGGER = "hub.engine.tasks.poll_trigger"
BATCH = 500
# Test trigger shows this many of the newest items.
TEST_ITEMS = 3
BUILT_IN = ("manual", "webhook", "schedule")


def _recipes():
    return TriggerState._meta.get_field("recipe").related_model


def find_trigger(document: dict) -> tuple[Any, Trigger] | None:
    """The integration and trigger a stored trigger document names, or None (built-ins,
    or an app or event that no longer exists)."""
    app = document.get("app")
    if not app or app in BUILT_IN:
        return None
    try:
        integration = registry.get(app)
        return integration, integration.trigger(document.get("event"))
    except IntegrationError:
        return None


def polls(document: dict) -> bool:
    found = find_trigger(document)
    if found is None or found[1].poll is None:
        return False
    # An instant trigger is polled only where its app cannot push events to this hub.
    return not (found[1].instant and instant_ready(document.get("app", "")))


def config_hash(document: dict) -> str:
    """What identifies the items a trigger watches: a republish with the same hash goes on
    from its cursor. ``include_most_recent`` is left out: it only shapes the first poll."""
    watched = {
        "app": document.get("app"),
        "event": document.get("event"),
        "connection": document.get("connection_id") or document.get("connection"),
        "config": document.get("config") or {},
    }
    return hashlib.sha256(json.dumps(watched, sort_keys=True).encode()).hexdigest()


def interval(state: TriggerState) -> timedelta:
    return timedelta(minutes=state.interval_minutes or settings.TRIGGER_POLL_MINUTES)


def sync(state: TriggerState, document: dict, active: bool, now: datetime) -> None:
    """Make a polled trigger's state follow a publish, pause or resume (inside that
    transaction). The same trigger config keeps its cursor and seen ids; a different one
    starts fresh — the next poll seeds from "now" — and ``reset_at`` says so on the page."""
    digest = config_hash(document)
    if state.kind != TriggerState.POLL or state.config_hash != digest:
        if state.kind == TriggerState.POLL and state.last_polled_at is not None:
            state.reset_at = now
        state.cursor = None
        state.seen_ids = []
        state.last_polled_at = None
        state.next_fire_at = None
    state.kind = TriggerState.POLL
    state.config_hash = digest
    if not active:
        state.next_fire_at = None
    elif state.next_fire_at is None or state.failures:
        # Publishing again tries a failing poll at once rather than after its backoff.
        state.next_fire_at = now
    state.failures = 0
    state.last_error = ""
    state.failing_since = None
    state.save()


def set_interval(recipe_id: int, minutes: int) -> bool:
    """An admin's choice of minutes between polls; a poll due later than the new interval
    allows comes due sooner. False when the recipe's trigger is not polled."""
    with transaction.atomic():
        state = (
            TriggerState.objects.select_for_update()
            .filter(recipe_id=recipe_id, kind=TriggerState.POLL)
            .first()
        )
        if state is None:
            return False
        state.interval_minutes = minutes
        if state.next_fire_at and state.last_polled_at and not state.failures:
            state.next_fire_at = min(state.next_fire_at, state.last_polled_at + interval(state))
        state.save()
    return True


def dispatch_due(now: datetime | None = None) -> int:
    """Send a ``poll_trigger`` task for each due poll; returns how many were sent. The due
    time moves ahead by the poll lease in the same compare-and-set UPDATE that claims it, so
    two ticks send a poll once, and a poll whose worker died is sent again after the lease."""
    now = now or timezone.now()
    held = now + timedelta(seconds=settings.TRIGGER_POLL_LEASE_SECONDS)
    sent = 0
    with transaction.atomic():
        query = TriggerState.objects.filter(
            kind=TriggerState.POLL,
            next_fire_at__lte=now,
            recipe__state=_recipes().State.ACTIVE,
            recipe__current_version__isnull=False,
        ).order_by("next_fire_at")
        if db.features.has_select_for_update_skip_locked:
            query = query.select_for_update(skip_locked=True, of=("self",))
        for state_id, due_at in list(query.values_list("id", "next_fire_at")[:BATCH]):
            claimed = TriggerState.objects.filter(id=state_id, next_fire_at=due_at).update(
                next_fire_at=held
            )
            if claimed:
                transaction.on_commit(partial(_send, state_id))
                sent += 1
    return sent


def _send(state_id: int) -> None:
    try:
        current_app.send_task(POLL_TRIGGER, (state_id,), ignore_result=True)
    except Exception:
        # The lease runs out and the tick sends it again.
        log.exception("Could not send the poll of trigger state %s", state_id)


def context_for(
    workspace_id: int, document: dict, integration, *, recipe=None, version=None, connection=None
):
    if connection is not None and document.get("connection_id") not in (None, connection.pk):
        connection = None  # republished with another connection since it was read
    connection = connection or resolve_connection(
        workspace_id, document["app"], document.get("connection"), document.get("connection_id")
    )
    return Context(
        workspace_id=workspace_id,
        config=dict(document.get("config") or {}),
        connection=connection,
        integration=integration,
        timezone=(version.document.get("timezone") if version else None) or "UTC",
        recipe_id=getattr(recipe, "pk", None),
        version_id=getattr(version, "pk", None),
        member_id=getattr(recipe, "owner_id", None),
    )


def call_poll(trigger: Trigger, ctx: Context, request: PollRequest, *, refreshes=True):
    """The poll, its SDK errors translated. With ``refreshes``, a refused token is refreshed
    once and the poll tried again, as a step's call is; the poll task refreshes outside its
    transaction instead (a refresh must commit on its own: rotating refresh tokens)."""
    connection = ctx.connection
    if connection is None and ctx.integration is not None and ctx.integration.connects != "none":
        raise IntegrationError("The trigger's connection no longer exists.", permanent=True)
    if connection is not None and refreshes:
        connection.fresh_token()
    refreshed = not refreshes
    while True:
        try:
            with ctx.integration.errors():
                return trigger.poll(ctx, request)
        except IntegrationError as error:
            if not error.reauth or error.permanent or connection is None or refreshed:
                raise
            refreshed = True
            if not refresh(connection):
                raise


def seen_ids(state: TriggerState) -> frozenset[str]:
    return frozenset(str(entry[0]) for entry in state.seen_ids or [] if entry)


def remember(state: TriggerState, ids: list[str], now: float | None = None) -> list:
    """The seen ids with ``ids`` added (first-fired time kept), those older than
    TRIGGER_SEEN_DAYS dropped and at most TRIGGER_SEEN_MAX kept, newest last."""
    now = now or time.time()
    oldest = now - settings.TRIGGER_SEEN_DAYS * 86400
    kept = [e for e in state.seen_ids or [] if e and len(e) == 2 and e[1] >= oldest]
    known = {str(e[0]) for e in kept}
    kept += [[item_id, int(now)] for item_id in dict.fromkeys(ids) if item_id not in known]
    return kept[-settings.TRIGGER_SEEN_MAX :]


def dedupe_key(recipe_id: int, item_id: str) -> str:
    key = f"trigger:{recipe_id}:{item_id}"
    if len(key) <= 200:
        return key
    return f"trigger:{recipe_id}:sha256:{hashlib.sha256(item_id.encode()).hexdigest()}"


def poll_trigger(state_id: int) -> str:
    """One poll of one trigger (the Celery task's body); returns what happened.

    The token is made fresh first, outside any transaction; a token the app refuses during
    the poll is refreshed once (again outside) and the poll repeated."""
    state = TriggerState.objects.filter(pk=state_id, kind=TriggerState.POLL).first()
    if state is None:
        return "gone"
    recipe = _recipes().objects.select_related("current_version").get(pk=state.recipe_id)
    version = recipe.current_version
    found = find_trigger(version.trigger) if version else None
    connection = None
    if found is not None:
        document = version.trigger
        connection = resolve_connection(
            recipe.workspace_id, document["app"], document.get("connection"),
            document.get("connection_id"),
        )  # fmt: skip
        if connection is not None and connection.status == connection.Status.ACTIVE:
            # A refusal here is met again by the poll, which records it.
            with contextlib.suppress(IntegrationError):
                connection.fresh_token()
    outcome, broken = _poll_locked(state_id, connection, last_try=False)
    if outcome == "reauth":
        if connection is not None and refresh(connection):
            outcome, broken = _poll_locked(state_id, connection, last_try=True)
        else:
            outcome, broken = _poll_locked(state_id, connection, last_try=True)
    if broken is not None:
        # After the commit: the recipes' pause (a signal) takes its own locks.
        mark_broken(connection, str(broken))
    return outcome


def _poll_locked(state_id: int, connection, *, last_try: bool) -> tuple[str, Any]:
    """Lock the state, poll, fire and store, in one transaction. Returns (outcome, why the
    connection is broken or None); outcome "reauth": the token was refused, nothing stored,
    refresh and call again with ``last_try``."""
    from hub.engine.runs import start_run

    now = timezone.now()
    with transaction.atomic():
        state = (
            TriggerState.objects.select_for_update()
            .filter(pk=state_id, kind=TriggerState.POLL)
            .first()
        )
        if state is None:
            return "gone", None
        recipe = _recipes().objects.select_related("current_version").get(pk=state.recipe_id)
        version = recipe.current_version
        if recipe.state != recipe.State.ACTIVE or version is None:
            TriggerState.objects.filter(pk=state.pk).update(next_fire_at=None)
            return "inactive", None
        found = find_trigger(version.trigger)
        if found is None:
            record_failure(
                state, IntegrationError("This trigger no longer exists.", permanent=True)
            )
            return "failed", None
        integration, trigger = found
        ctx = context_for(recipe.workspace_id, version.trigger, integration, recipe=recipe,
                          version=version, connection=connection)  # fmt: skip
        refused = ctx.connection and publisher_may_not_use(version.pk, ctx.connection)
        if refused:
            record_failure(state, IntegrationError(str(refused), permanent=True))
            _pause_version(version.pk, refused)
            return "refused", None
        seeding = state.last_polled_at is None
        request = PollRequest(
            cursor=state.cursor,
            limit=settings.TRIGGER_POLL_MAX_ITEMS,
            seen=seen_ids(state),
            mode="seed" if seeding else "poll",
        )
        try:
            result = call_poll(trigger, ctx, request, refreshes=False)
            items = list(result.items)
            if seeding:
                items = (
                    _most_recent(trigger, ctx) if version.trigger.get("include_most_recent") else []
                )
        except IntegrationError as error:
            if error.reauth and not error.permanent and not last_try:
                return "reauth", None
            return "failed", record_failure(state, error)
        except Exception as error:
            log.exception("Poll of trigger state %s failed", state_id)
            record_failure(state, IntegrationError(f"Unexpected error: {error}"))
            return "failed", None
        fired = 0
        for item in items:
            run = start_run(
                recipe, Run.Source.APP, item.data, dedupe_key=dedupe_key(recipe.pk, item.id)
            )
            fired += run is not None
        every = interval(state)
        if seeding:
            # Recipes published together would otherwise poll in step, every interval in
            # the same tick: the first interval is drawn at random, which spreads them out.
            every *= random.uniform(0.1, 1.0)  # noqa: S311  (spreading load, not security)
        record_success(state, result.cursor, remember(state, [i.id for i in items]), now,
                       soon=result.more, every=every, fired=fired)  # fmt: skip
    return f"fired {fired}", None


def _most_recent(trigger: Trigger, ctx: Context) -> list[PollItem]:
    """The newest existing item, for a first poll the member asked to include it in."""
    request = PollRequest(limit=1, mode="test")
    return list(call_poll(trigger, ctx, request, refreshes=False).items[:1])


def test_poll(
    workspace_id: int, document: dict, limit: int = TEST_ITEMS, *, recipe=None, connection=None
) -> list[PollItem]:
    """Test trigger: the newest few real items, newest first, through the same call as a
    poll (context, token refresh, error translation); no cursor is read or stored. An
    instant trigger the app cannot be asked about (Slack reactions) shows the newest events
    that reached the recipe instead."""
    found = find_trigger(document)
    if found is not None and found[1].poll is None and found[1].instant and recipe is not None:
        events = recent_events(recipe, limit)
        return [PollItem(f"event-{n}", data) for n, data in enumerate(events, 1)]
    if found is None or found[1].poll is None:
        raise IntegrationError("This trigger cannot be tested by fetching items.", permanent=True)
    integration, trigger = found
    ctx = context_for(workspace_id, document, integration, recipe=recipe, connection=connection)
    result = call_poll(trigger, ctx, PollRequest(limit=limit, mode="test"))
    return list(result.items)[:limit]
