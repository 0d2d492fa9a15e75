"""How many runs a workspace started per quarter hour, and how they ended — what the Home
page's runs-per-day chart shows, without counting two weeks of runs on every visit.

A quarter hour is counted from the runs once: the first time a page asks for it after it is
over (``SEAL_AFTER`` past its end, so no run still being inserted lands in it) and when none
of its runs is unfinished. The counts are then kept as a ``RunSlotCount`` row. A finished
run's status never changes (a replay is a new run), so the row stays true until runs are
deleted; the prune and deleting a recipe call ``forget``, which deletes the rows of the
quarter hours they touched, counted again on the next visit. Quarter hours still open (the
last minutes, or one holding a run that has not finished) are counted from the runs on each
visit: a few minutes of runs, read through the (workspace, created_at) index.

Why quarter hours: every time zone's midnight falls on a quarter hour of UTC, so a day on
any wall clock is a whole number of them.

Counts taken while runs are being deleted must not be written after ``forget`` ran: it bumps
the workspace's ``RunCountEpoch`` in the transaction that deletes rows, and counts are
written only if the generation read before counting is unchanged, checked under that row's
lock.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from django.db import transaction
from django.db.models import BigIntegerField, Count, F, Func, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from hub.engine.models import Run, RunCountEpoch, RunSlotCount

SLOT = timedelta(minutes=15)
SEAL_AFTER = timedelta(minutes=5)
# Quarter hours to count are read as ranges of the index; past this many ranges, one range
# spanning them all (SQLite parses a long OR chain as a deep tree, and caps its depth).
MAX_RANGES = 40


class Counts(NamedTuple):
    succeeded: int = 0
    filtered: int = 0
    failed: int = 0
    cancelled: int = 0
    unfinished: int = 0

    @property
    def total(self) -> int:
        return sum(self)

    def plus(self, other: Counts) -> Counts:
        return Counts(*(a + b for a, b in zip(self, other, strict=True)))


EMPTY = Counts()
_STORED = ("succeeded", "filtered", "failed", "cancelled")


class _QuarterHour(Func):
    """The quarter hour a timestamp falls in, as seconds since 1970 divided by 900."""

    output_field = BigIntegerField()
    seconds = int(SLOT.total_seconds())

    def as_postgresql(self, compiler, connection, **extra):
        template = f"FLOOR(EXTRACT(EPOCH FROM %(expressions)s) / {self.seconds})::bigint"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        # Whole seconds of the stored text ('YYYY-MM-DD HH:MM:SS.ffffff', UTC): strftime
        # rounds to milliseconds, which would put 12:14:59.9999 in the next quarter hour.
        # '%%%%s' is strftime's %s once through Func's and the SQLite backend's formatting.
        template = (
            f"CAST(strftime('%%%%s', substr(%(expressions)s, 1, 19)) AS INTEGER) / {self.seconds}"
        )
        return self.as_sql(compiler, connection, template=template, **extra)


def slot_of(moment: datetime) -> datetime:
    """The start of the quarter hour ``moment`` falls in, in UTC."""
    seconds = int(SLOT.total_seconds())
    return datetime.fromtimestamp(int(moment.timestamp()) // seconds * seconds, UTC)


def per_day(workspace_id: int, zone, first: date, last: date, now=None) -> dict[date, Counts]:
    """The runs created on the days ``first`` to ``last`` of ``zone``'s wall clock; days
    without runs are left out. The kept quarter hours are summed per day by the database;
    only the days missing some (today; a day with a run not finished) are looked at
    quarter by quarter."""
    now = now or timezone.now()
    generation = _generation(workspace_id)
    start, end = _midnight(first, zone), _midnight(last + timedelta(days=1), zone)
    kept = RunSlotCount.objects.filter(workspace_id=workspace_id, slot__gte=start, slot__lt=end)
    sums = (
        kept.annotate(day=TruncDate("slot", tzinfo=zone))
        .values("day")
        .annotate(slots=Count("id"), **{name: Sum(name) for name in _STORED})
        .order_by()
    )
    days, complete = {}, {}
    for row in sums:
        day = row.pop("day")
        complete[day] = row.pop("slots")
        days[day] = Counts(**row)
    missing: list[datetime] = []
    day = first
    while day <= last:
        low, high = _midnight(day, zone), min(_midnight(day + timedelta(days=1), zone), now)
        if high > low and complete.get(day, 0) < math.ceil((high - low) / SLOT):
            have = set(kept.filter(slot__gte=low, slot__lt=high).values_list("slot", flat=True))
            slot = low
            while slot < high:
                if slot not in have:
                    missing.append(slot)
                slot += SLOT
        day += timedelta(days=1)
    for slot, counts in _count_and_keep(workspace_id, generation, missing, now).items():
        day = slot.astimezone(zone).date()
        days[day] = days.get(day, EMPTY).plus(counts)
    return {day: counts for day, counts in days.items() if counts.total}


def _midnight(day: date, zone) -> datetime:
    return datetime.combine(day, time(), zone).astimezone(UTC)


def _count_and_keep(workspace_id, generation, slots: list[datetime], now) -> dict:
    """Count ``slots`` from the runs, and keep those over and with every run finished."""
    counted = _count(workspace_id, slots)
    closed = [
        slot
        for slot in slots
        if slot + SLOT + SEAL_AFTER <= now and counted.get(slot, EMPTY).unfinished == 0
    ]
    if closed:
        _keep(workspace_id, generation, {slot: counted.get(slot, EMPTY) for slot in closed})
    return counted


def forget(workspace_id: int, before: datetime | None = None) -> int:
    """Drop the kept counts (of the quarter hours starting before ``before``, or all) after
    runs were deleted; they are counted again when next asked for."""
    # Joins the caller's transaction (deleting a recipe), or is one of its own.
    with transaction.atomic(savepoint=False):
        bumped = RunCountEpoch.objects.filter(workspace_id=workspace_id).update(
            generation=F("generation") + 1
        )
        if not bumped:
            _epoch, created = RunCountEpoch.objects.get_or_create(
                workspace_id=workspace_id, defaults={"generation": 1}
            )
            if not created:  # made meanwhile by a visit keeping counts
                RunCountEpoch.objects.filter(workspace_id=workspace_id).update(
                    generation=F("generation") + 1
                )
        rows = RunSlotCount.objects.filter(workspace_id=workspace_id)
        if before is not None:
            rows = rows.filter(slot__lt=before)
        return rows.delete()[0]


def _generation(workspace_id: int) -> int:
    found = RunCountEpoch.objects.filter(workspace_id=workspace_id).values_list(
        "generation", flat=True
    )
    return next(iter(found), 0)


def _epoch(workspace_id: int) -> RunCountEpoch:
    """The workspace's epoch row, locked until the transaction ends (created if missing)."""
    RunCountEpoch.objects.get_or_create(workspace_id=workspace_id)
    return RunCountEpoch.objects.select_for_update().get(workspace_id=workspace_id)


def _keep(workspace_id: int, generation: int, counts: dict[datetime, Counts]) -> None:
    with transaction.atomic():
        if _epoch(workspace_id).generation != generation:
            return  # runs were deleted since these were counted
        RunSlotCount.objects.bulk_create(
            [
                RunSlotCount(
                    workspace_id=workspace_id,
                    slot=slot,
                    **{name: getattr(numbers, name) for name in _STORED},
                )
                for slot, numbers in counts.items()
            ],
            ignore_conflicts=True,  # a concurrent visit counted the same runs
        )


def _ranges(slots: list[datetime]) -> list[tuple[datetime, datetime]]:
    ranges: list[tuple[datetime, datetime]] = []
    for slot in slots:
        if ranges and ranges[-1][1] == slot:
            ranges[-1] = (ranges[-1][0], slot + SLOT)
        else:
            ranges.append((slot, slot + SLOT))
    if len(ranges) > MAX_RANGES:
        ranges = [(ranges[0][0], ranges[-1][1])]
    return ranges


def _count(workspace_id: int, slots: list[datetime]) -> dict[datetime, Counts]:
    if not slots:
        return {}
    within = Q()
    for low, high in _ranges(slots):
        within |= Q(created_at__gte=low, created_at__lt=high)
    status = Run.Status
    rows = (
        Run.objects.filter(within, workspace_id=workspace_id)
        .annotate(quarter=_QuarterHour("created_at"))
        .values("quarter")
        .annotate(
            succeeded=Count("id", filter=Q(status=status.SUCCEEDED)),
            filtered=Count("id", filter=Q(status=status.FILTERED)),
            failed=Count("id", filter=Q(status=status.FAILED)),
            cancelled=Count("id", filter=Q(status=status.CANCELLED)),
            unfinished=Count("id", filter=Q(status__in=Run.ACTIVE)),
        )
        .order_by()
    )
    seconds = int(SLOT.total_seconds())
    wanted = set(slots)
    out = {}
    for row in rows:
        slot = datetime.fromtimestamp(row.pop("quarter") * seconds, UTC)
        if slot in wanted:
            out[slot] = Counts(**row)
    return out
