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

import json
import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, DateTimeField, F, Q, Value, When
from django.utils import timezone

from hub.engine import polling, schedule
from hub.engine.dispatch import enqueue, wait_enqueue_seconds
from hub.engine.models import Run, TriggerState

log = logging.getLogger(__name__)

BATCH = 200
# A due time prepared ahead (``lead``) is prepared whole, up to this many schedules.
LEAD_BATCH = 10_000


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


def next_due() -> datetime | None:
    """The earliest due time of any schedule: one step along the ``next_fire_at`` index,
    cheap enough to ask every second, so the scheduler can wake at the due time itself."""
    return (
        TriggerState.objects.filter(kind="schedule", next_fire_at__isnull=False)
        .order_by("next_fire_at")
        .values_list("next_fire_at", flat=True)
        .first()
    )


def _due(until: datetime, limit: int):
    query = TriggerState.objects.filter(
        kind="schedule",
        next_fire_at__lte=until,
        recipe__state=_recipes().State.ACTIVE,
        recipe__current_version__isnull=False,
    ).order_by("next_fire_at")
    if connection.features.has_select_for_update_skip_locked:
        query = query.select_for_update(skip_locked=True, of=("self",))
    return list(query.values_list("id", "recipe_id", "next_fire_at")[:limit])


class _Lead:
    """How far ahead of a due time the scheduler starts preparing it: the configured lead,
    or longer when the last preparation took more than half of it (a bigger burst, a busier
    machine) — long enough that the next one is ready in time."""

    def __init__(self):
        self.per_schedule = 0.0
        self.largest = 0

    def prepared(self, count: int, seconds: float) -> None:
        if count:
            self.per_schedule = seconds / count
            self.largest = max(self.largest, count)

    def seconds(self, configured: float, upcoming: int = 0) -> float:
        """``upcoming``: how many schedules share the next due time. Before anything was
        measured, a prior cost per schedule sizes the lead for it, so the first burst after
        a start is ready in time too."""
        if configured <= 0:
            return 0.0
        per = self.per_schedule or PRIOR_SECONDS_PER_SCHEDULE
        needed = 2 * per * max(self.largest, upcoming)
        return min(max(configured, needed), MAX_LEAD_SECONDS)


_lead = _Lead()
# What preparing one schedule's run cost on this 2-core machine under load (2.3 to 4.6 ms,
# bench/results/2026-12-01-schedules.txt): the first lead's guess until one is measured.
PRIOR_SECONDS_PER_SCHEDULE = 0.003
# However slow the preparation, the rows of a due time are not locked longer before it (and
# the scheduler's heartbeat, which waits meanwhile, stays well inside its 35 s).
MAX_LEAD_SECONDS = 20.0


def lead_seconds(due: datetime | None = None) -> float:
    """The lead the scheduler process uses now (``ENGINE_SCHEDULE_LEAD_SECONDS`` or more),
    for the due time ``due`` (the next one) when given: sized by how many schedules share
    it once it is near enough to matter."""
    if not connection.features.has_select_for_update_skip_locked:
        # SQLite: a transaction held open until the due time would hold the one write lock.
        return 0.0
    upcoming = 0
    if due is not None and due <= timezone.now() + timedelta(seconds=MAX_LEAD_SECONDS):
        upcoming = schedules_due_at(due)
    return _lead.seconds(settings.ENGINE_SCHEDULE_LEAD_SECONDS, upcoming)


def schedules_due_at(due: datetime) -> int:
    """How many schedules share a due time (a range of the ``next_fire_at`` index)."""
    return TriggerState.objects.filter(kind="schedule", next_fire_at=due).count()


_LOOK_UP = object()  # ``tick``'s earliest due time not known yet: ask the index


def _fire_at(now: datetime, lead: float, earliest=_LOOK_UP) -> datetime:
    """The moment this tick fires at: now, or — when the earliest due time is at most
    ``lead`` seconds ahead — that due time, so the batch is ready before it comes."""
    if lead <= 0:
        return now
    if earliest is _LOOK_UP:
        earliest = next_due()
    if earliest is not None and now < earliest <= now + timedelta(seconds=lead):
        return earliest
    return now


def _wait_until(moment: datetime) -> None:
    ahead = (moment - timezone.now()).total_seconds()
    if ahead > 0:
        time.sleep(ahead)


def tick(now: datetime | None = None, *, lead: float = 0.0, earliest=_LOOK_UP) -> int:
    """Fire what is due (one batch); returns how many runs were created.

    With ``lead`` (the scheduler process, on PostgreSQL) a due time that is at most that
    many seconds ahead is prepared before it comes — rows locked, following due times
    computed and written, runs inserted stamped with the due time — and the transaction
    commits when it arrives, which is when the runs exist for everyone: a burst of
    thousands of schedules sharing a minute costs its work before the minute, not after.
    The rows stay locked until the commit, so a second scheduler skips them; if this one
    dies meanwhile, the transaction rolls back and the schedules are still due."""
    from hub.engine.runs import PreparedRuns

    started = timezone.now()
    now = now or started
    fire_at = _fire_at(now, lead, earliest)
    limit = LEAD_BATCH if fire_at > now else BATCH
    with transaction.atomic():
        due = _due(fire_at, limit)
        recipes = (
            _recipes()
            .objects.select_related("current_version", "workspace")
            .in_bulk([recipe_id for _, recipe_id, _ in due])
        )
        # Schedules sharing a config share their following due time: computed once each.
        following_of: dict[tuple[str, datetime], datetime | None] = {}
        moves = []
        for state_id, recipe_id, due_at in due:
            recipe = recipes[recipe_id]
            version = recipe.current_version
            config = schedule.with_zone(
                version.trigger.get("config") or {}, version.timezone or recipe.workspace.timezone
            )
            after = max(fire_at, due_at)
            key = (json.dumps(config, sort_keys=True), after)
            if key not in following_of:
                try:
                    following_of[key] = schedule.next_fire(config, after)
                except schedule.ScheduleError as error:
                    log.error("Recipe %s: bad schedule: %s", recipe_id, error)
                    following_of[key] = None
            moves.append((state_id, recipe_id, due_at, following_of[key], config))
        won = _advance(moves, fire_at)
        prepared = PreparedRuns(
            Run.Source.SCHEDULE,
            [
                (
                    recipes[recipe_id],
                    {
                        "scheduled_at": due_at.isoformat(),
                        "fired_at": fire_at.isoformat(),
                        "timezone": config["timezone"],
                    },
                    f"schedule:{recipe_id}:{due_at.isoformat()}",
                )
                for state_id, recipe_id, due_at, following, config in won
            ],
        )
        moments = {}
        transaction.on_commit(lambda: moments.setdefault("committed", timezone.now()))
        if fire_at <= now:
            prepare_seconds = (timezone.now() - started).total_seconds()
            fired = prepared.insert()
        else:
            # Inserted ahead too, stamped with the due time; committed at it, from when the
            # runs exist for everyone (workers included).
            fired = prepared.insert(at=fire_at)
            prepare_seconds = (timezone.now() - started).total_seconds()
            _lead.prepared(len(due), prepare_seconds)
            _wait_until(fire_at)
    if fired and "committed" in moments:  # (not yet, inside a caller's transaction)
        # The runs are there for everyone once committed, which may be after their
        # created_at stamp; bench/schedules.py reads this line for that share of the lag.
        log.info(
            "Fired %d schedules due by %s: prepared in %.0f ms; stamped %s, committed %.0f ms "
            "later",
            fired,
            fire_at.isoformat(),
            prepare_seconds * 1000,
            prepared.stamped_at.isoformat(),
            (moments["committed"] - prepared.stamped_at).total_seconds() * 1000,
        )
    return fired


# At most this many batches of due schedules per tick (each batch is BATCH).
MAX_BATCHES = 50


def tick_until_done(*, lead: bool = False) -> int:
    """One whole tick: fire every due schedule (batch after batch, bounded so a tick never
    starves the scheduler's other work), wake near parked waits, send due polls of app
    triggers as their own tasks. Returns the runs created. ``lead`` (the scheduler
    process): prepare a due time that is ``lead_seconds()`` ahead, see ``tick``."""
    earliest = next_due() if lead else _LOOK_UP
    lead = lead_seconds(earliest) if lead else 0.0
    fired = 0
    for _ in range(MAX_BATCHES):
        # The first batch uses the due time the lead was sized for; later ones look again.
        batch = tick(lead=lead, earliest=earliest)
        earliest = _LOOK_UP
        fired += batch
        if batch < BATCH:
            break
    wake()
    polling.dispatch_due()
    return fired


def _advance(moves: list, now: datetime) -> list:
    """Move each due state to its following due time with a compare-and-set (``WHERE
    next_fire_at = <due>``), in one UPDATE for the batch, one CASE arm per distinct
    (due, following) pair — a burst of a thousand every-minute schedules is one arm;
    returns the moves that won. The rows are locked by this tick (SKIP LOCKED; IMMEDIATE on
    SQLite) so all normally win; if one did not, each is tried alone to find who got there
    first."""
    if not moves:
        return []
    groups: dict[tuple[datetime, datetime | None], list[int]] = {}
    for state_id, _recipe, due_at, then, _config in moves:
        groups.setdefault((due_at, then), []).append(state_id)
    won = Q()
    following = []
    for (due_at, then), ids in groups.items():
        won |= Q(id__in=ids, next_fire_at=due_at)
        following.append(When(id__in=ids, then=Value(then)))
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
