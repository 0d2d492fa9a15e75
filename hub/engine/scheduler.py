"""The scheduler tick: fire every due schedule once per due time.

The tick selects due trigger states (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two ticks
split the work instead of waiting on each other), and for each one advances
``next_fire_at`` with a compare-and-set UPDATE and creates the run with
``dedupe_key = schedule:<recipe>:<due time>``. Either guard alone stops a double fire; on
SQLite, where SKIP LOCKED does not exist, IMMEDIATE transactions serialize the ticks and
the compare-and-set does the rest.

After downtime a schedule fires **once** for the earliest missed due time, then moves to
the next due time after now: no burst of catch-up runs.

Polled app triggers are due trigger states too (``kind = "poll"``): the tick sends each due
poll as its own task (``polling.dispatch_due``), so no app is called inside the tick.

The tick also ``wake``s waiting runs parked in the database (waits longer than the broker
message limit, see ``dispatch.wait_enqueue_seconds``) once their resume time is that near.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Case, DateTimeField, F, Q, Value, When
from django.utils import timezone

from hub.engine import polling, schedule
from hub.engine.dispatch import enqueue, wait_enqueue_seconds
from hub.engine.models import Run, TriggerState

log = logging.getLogger(__name__)

BATCH = 200


def _recipes():
    """The recipe model: the recipes are the layer above, reached through the relation."""
    return TriggerState._meta.get_field("recipe").related_model


def sync_trigger(recipe, now: datetime | None = None) -> TriggerState | None:
    """Make the trigger state match the recipe's current version and state. Called inside
    the publish/pause transaction, so the trigger swaps together with the version."""
    now = now or timezone.now()
    version = recipe.current_version
    trigger = version.trigger if version else {}
    kind = trigger.get("app", "manual")
    active = recipe.state == _recipes().State.ACTIVE
    next_fire = None
    if kind == "schedule" and active:
        config = schedule.with_zone(trigger["config"], version.zone_name)
        next_fire = schedule.next_fire(config, now)
    state, created = TriggerState.objects.select_for_update().get_or_create(
        recipe=recipe, defaults={"kind": kind, "next_fire_at": next_fire}
    )
    if version is not None and polling.polls(trigger):
        polling.sync(state, trigger, active, now)
        return state
    if not created:
        if state.kind != kind:
            state.cursor = None
            state.seen_ids = []
        state.kind = kind
        state.next_fire_at = next_fire
        state.save()
    return state


def _due(now: datetime):
    query = TriggerState.objects.filter(
        kind="schedule",
        next_fire_at__lte=now,
        recipe__state=_recipes().State.ACTIVE,
        recipe__current_version__isnull=False,
    ).order_by("next_fire_at")
    if connection.features.has_select_for_update_skip_locked:
        query = query.select_for_update(skip_locked=True, of=("self",))
    return list(query.values_list("id", "recipe_id", "next_fire_at")[:BATCH])


def tick(now: datetime | None = None) -> int:
    """Fire what is due (one batch); returns how many runs were created."""
    from hub.engine.runs import start_runs

    now = now or timezone.now()
    with transaction.atomic():
        due = _due(now)
        recipes = (
            _recipes()
            .objects.select_related("current_version", "workspace")
            .in_bulk([recipe_id for _, recipe_id, _ in due])
        )
        moves = []
        for state_id, recipe_id, due_at in due:
            recipe = recipes[recipe_id]
            version = recipe.current_version
            config = schedule.with_zone(
                version.trigger.get("config") or {}, version.timezone or recipe.workspace.timezone
            )
            try:
                following = schedule.next_fire(config, max(now, due_at))
            except schedule.ScheduleError as error:
                log.error("Recipe %s: bad schedule: %s", recipe_id, error)
                following = None
            moves.append((state_id, recipe_id, due_at, following, config))
        starts = [
            (
                recipes[recipe_id],
                {
                    "scheduled_at": due_at.isoformat(),
                    "fired_at": now.isoformat(),
                    "timezone": config["timezone"],
                },
                f"schedule:{recipe_id}:{due_at.isoformat()}",
            )
            for state_id, recipe_id, due_at, following, config in _advance(moves, now)
        ]
        return start_runs(Run.Source.SCHEDULE, starts)


# At most this many batches of due schedules per tick (each batch is BATCH).
MAX_BATCHES = 50


def tick_until_done() -> int:
    """One whole tick: fire every due schedule (batch after batch, bounded so a tick never
    starves the scheduler's other work), wake near parked waits, send due polls of app
    triggers as their own tasks. Returns the runs created."""
    fired = 0
    for _ in range(MAX_BATCHES):
        batch = tick()
        fired += batch
        if batch < BATCH:
            break
    wake()
    polling.dispatch_due()
    return fired


def _advance(moves: list, now: datetime) -> list:
    """Move each due state to its following due time with a compare-and-set (``WHERE
    next_fire_at = <due>``), in one UPDATE for the batch; returns the moves that won. The
    rows are locked by this tick (SKIP LOCKED; IMMEDIATE on SQLite) so all normally win; if
    one did not, each is tried alone to find who got there first."""
    if not moves:
        return []
    won = Q()
    following = []
    for state_id, _recipe, due_at, then, _config in moves:
        won |= Q(id=state_id, next_fire_at=due_at)
        following.append(When(id=state_id, then=Value(then)))
    changed = TriggerState.objects.filter(won).update(
        next_fire_at=Case(*following, output_field=DateTimeField()), last_fired_at=now
    )
    if changed == len(moves):
        return moves
    # Only a tick racing without the lock gets here.
    return [
        move
        for move in moves
        if TriggerState.objects.filter(id=move[0], next_fire_at=move[2]).update(
            next_fire_at=move[3], last_fired_at=now
        )
    ]


def wake(now: datetime | None = None) -> int:
    """Send a message for each waiting run parked in the database whose resume time is within
    the broker message limit; returns how many were sent. One conditional UPDATE per run marks
    it sent for that resume time, so two ticks (or two schedulers) send it once."""
    now = now or timezone.now()
    horizon = now + timedelta(seconds=wait_enqueue_seconds())
    parked = (
        Run.objects.filter(status=Run.Status.WAITING, resume_at__lte=horizon)
        .exclude(enqueued_for=F("resume_at"))
        .order_by("resume_at")
        .values_list("id", "resume_at")[:BATCH]
    )
    woken = 0
    for run_id, resume_at in list(parked):
        claimed = (
            Run.objects.filter(id=run_id, status=Run.Status.WAITING, resume_at=resume_at)
            .exclude(enqueued_for=resume_at)
            .update(enqueued_for=resume_at, enqueued_at=now)
        )
        if claimed:
            countdown = (resume_at - now).total_seconds()
            enqueue(run_id, countdown=countdown, stamped=True, due=resume_at)
            woken += 1
    return woken
