"""The quick answer for a schedule's next fire (no clock change nearby) is always the careful
walk's answer: across zones with and without daylight saving, around their changes too."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hub.engine import schedule

EXPRESSIONS = ["* * * * *", "*/5 * * * *", "7 * * * *", "30 2 * * *", "0 9 * * 1-5", "15 3 1 * *"]
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Seoul", "Australia/Lord_Howe"]


def careful(expression, zone, after, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(schedule, "_without_clock_change", lambda *args: None)
        return schedule.next_cron(expression, zone, after)


def test_quick_and_careful_answers_agree(monkeypatch):
    rng = random.Random(20261201)  # noqa: S311 (repeatable test moments, not secrets)
    # Around the 2026 changes in Europe and North America, and at random through the year.
    moments = [
        datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        datetime(2026, 3, 8, 6, 30, tzinfo=UTC),
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
    ]
    moments += [m + timedelta(minutes=rng.randrange(-240, 240)) for m in moments for _ in range(3)]
    moments += [
        datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(365 * 86400))
        for _ in range(40)
    ]
    checked = 0
    for after in moments:
        for expression in EXPRESSIONS:
            for zone in ZONES:
                quick = schedule.next_cron(expression, zone, after)
                assert quick == careful(expression, zone, after, monkeypatch), (
                    expression,
                    zone,
                    after,
                )
                checked += 1
    assert checked == len(moments) * len(EXPRESSIONS) * len(ZONES)


def test_the_quick_answer_is_taken_away_from_clock_changes():
    after = datetime(2026, 6, 1, 12, 0, 30, tzinfo=UTC)
    assert schedule._without_clock_change(
        "* * * * *", schedule.zone("Europe/Berlin"), after
    ) == datetime(2026, 6, 1, 12, 1, tzinfo=UTC)
    # Half an hour before Berlin's clocks go back, the careful walk answers.
    near = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert schedule._without_clock_change("* * * * *", schedule.zone("Europe/Berlin"), near) is None
