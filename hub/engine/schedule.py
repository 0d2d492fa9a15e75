"""When a schedule fires next, in the recipe's time zone, correct across DST changes.

croniter walks wall-clock times; this module turns each wall-clock candidate into instants
itself, so the DST rules are ours and tested:

- A local time that does not exist on a day (clocks jump 02:00 → 03:00) fires at the instant
  that time would have had on the old clock — 02:30 fires at 03:30 new time — once.
- A local time that happens twice (clocks go back 03:00 → 02:00) fires once, at the first
  occurrence, unless the expression fires every hour (hour field ``*`` or ``*/n``): then it
  fires in both hours, as an hourly job should.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_CANDIDATES = 10_000


class ScheduleError(ValueError):
    pass


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"“{name}” is not a known time zone (e.g. Europe/Berlin).") from None


def check_cron(expression: str) -> None:
    if not isinstance(expression, str) or len(expression.split()) != 5:
        raise ScheduleError(
            "A cron expression has five parts: minute hour day-of-month month day-of-week."
        )
    if not croniter.is_valid(expression):
        raise ScheduleError(f"“{expression}” is not a valid cron expression.")


def _parse_time(value: str) -> tuple[int, int]:
    try:
        hour, minute = (int(part) for part in str(value).split(":"))
    except ValueError:
        raise ScheduleError(f"“{value}” is not a time of day such as 09:30.") from None
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise ScheduleError(f"“{value}” is not a time of day such as 09:30.")
    return hour, minute


def normalize(event: str, config: dict) -> dict:
    """The friendly forms (every N minutes, hourly, daily at, weekly on) stored as the same
    thing: a cron expression, or an interval when minutes do not divide an hour or a day."""
    config = dict(config or {})
    tz = config.get("timezone") or "UTC"
    zone(tz)
    if event == "cron":
        check_cron(config.get("cron", ""))
        return {**config, "timezone": tz}
    if event == "every":
        try:
            minutes = int(config.get("minutes"))
        except (TypeError, ValueError):
            raise ScheduleError("“minutes” must be a whole number of minutes.") from None
        if minutes < 1:
            raise ScheduleError("“minutes” must be at least 1.")
        if 60 % minutes == 0:
            cron = "* * * * *" if minutes == 1 else f"*/{minutes} * * * *"
        elif minutes % 60 == 0 and 24 % (minutes // 60) == 0:
            cron = f"0 */{minutes // 60} * * *"
        else:
            return {**config, "minutes": minutes, "interval_minutes": minutes, "timezone": tz}
        return {**config, "minutes": minutes, "cron": cron, "timezone": tz}
    if event == "hourly":
        minute = int(config.get("minute", 0))
        if not 0 <= minute < 60:
            raise ScheduleError("“minute” must be between 0 and 59.")
        return {**config, "cron": f"{minute} * * * *", "timezone": tz}
    if event == "daily":
        hour, minute = _parse_time(config.get("at", ""))
        return {**config, "cron": f"{minute} {hour} * * *", "timezone": tz}
    if event == "weekly":
        days = config.get("days") or []
        if isinstance(days, str):
            days = [days]
        if not days or any(str(d).lower()[:3] not in WEEKDAYS for d in days):
            raise ScheduleError('“days” must list weekdays such as ["mon", "thu"].')
        hour, minute = _parse_time(config.get("at", ""))
        numbers = sorted({(WEEKDAYS.index(str(d).lower()[:3]) + 1) % 7 for d in days})
        dow = ",".join(str(n) for n in numbers)
        return {**config, "cron": f"{minute} {hour} * * {dow}", "timezone": tz}
    raise ScheduleError(f"“{event}” is not a schedule; use cron, every, hourly, daily or weekly.")


def _hourly(expression: str) -> bool:
    hour_field = expression.split()[1]
    return hour_field == "*" or hour_field.startswith("*/")


def _instants(naive: datetime, tz: ZoneInfo, both_folds: bool) -> list[datetime]:
    first = naive.replace(tzinfo=tz, fold=0)
    second = naive.replace(tzinfo=tz, fold=1)
    instants = [first.astimezone(UTC)]
    if first.utcoffset() != second.utcoffset():
        roundtrip = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
        if roundtrip == naive and both_folds:
            # The time happens twice: the later occurrence too, for hourly expressions.
            instants.append(second.astimezone(UTC))
    return instants


def next_cron(expression: str, tz_name: str, after: datetime) -> datetime:
    """The first instant strictly after ``after`` (aware) at which the expression fires."""
    tz = zone(tz_name)
    quick = _without_clock_change(expression, tz, after)
    if quick is not None:
        return quick
    both = _hourly(expression)
    # Start a little earlier on the wall clock: around a change the wall clock runs backwards.
    start = after.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0) - timedelta(hours=3)
    walker = croniter(expression, start)
    best = None
    for _ in range(MAX_CANDIDATES):
        naive = walker.get_next(datetime)
        for instant in _instants(naive, tz, both):
            if instant > after and (best is None or instant < best):
                best = instant
        # Candidates only grow on the wall clock; past 3 hours beyond the best we are done.
        if best is not None and naive - timedelta(hours=3) > best.astimezone(tz).replace(
            tzinfo=None
        ):
            return best
    if best is None:
        raise ScheduleError(f"“{expression}” never fires.")
    return best


def _without_clock_change(expression: str, tz: ZoneInfo, after: datetime) -> datetime | None:
    """The next instant when no clock change lies within three hours of it or of ``after``
    (nearly always): then the wall clock maps to instants one to one and the first candidate
    is the answer, instead of walking three hours of candidates either side (hundreds for an
    every-minute expression, at every fire). None near a change: take the careful walk."""
    local = after.astimezone(tz)
    walker = croniter(expression, local.replace(tzinfo=None))
    naive = walker.get_next(datetime)
    candidate = naive.replace(tzinfo=tz).astimezone(UTC)
    window = timedelta(hours=3)
    offsets = {
        (moment).astimezone(tz).utcoffset()
        for moment in (after - window, after, candidate, candidate + window)
    }
    if len(offsets) != 1 or candidate <= after:
        return None
    return candidate


def next_fire(config: dict, after: datetime) -> datetime:
    """The next due time of a normalized schedule config strictly after ``after``."""
    if config.get("interval_minutes"):
        step = int(config["interval_minutes"]) * 60
        seconds = int(after.timestamp())
        return datetime.fromtimestamp((seconds // step + 1) * step, tz=UTC)
    return next_cron(config["cron"], config.get("timezone") or "UTC", after)
