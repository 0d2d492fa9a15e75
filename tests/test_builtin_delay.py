from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from integrations.base import Context, IntegrationError, WaitUntil
from integrations.builtin import delay

NOW = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    monkeypatch.setattr(delay, "utcnow", lambda: NOW)


def run(resumed=False, **config):
    return delay.ACTION.run(Context(workspace_id=1, config=config, resumed=resumed))


def test_for_a_while_waits_then_returns_on_resume():
    with pytest.raises(WaitUntil) as info:
        run(mode="for", amount=90, unit="minutes")
    assert info.value.resume_at == NOW + timedelta(minutes=90)
    assert info.value.resume_at.tzinfo is not None
    assert info.value.output == {"waiting_until": "2024-05-01T10:30:00+00:00"}
    assert run(resumed=True, mode="for", amount=90, unit="minutes") == {
        "waited_until": NOW.isoformat()
    }


def test_units():
    with pytest.raises(WaitUntil) as info:
        run(mode="for", amount="1.5", unit="days")
    assert info.value.resume_at == NOW + timedelta(hours=36)


def test_until_in_a_time_zone():
    with pytest.raises(WaitUntil) as info:
        run(mode="until", until="2024-05-02T09:00", timezone="Asia/Seoul")
    assert info.value.resume_at == datetime(2024, 5, 2, 0, 0, tzinfo=UTC)


def test_until_with_offset_ignores_time_zone_field():
    with pytest.raises(WaitUntil) as info:
        run(mode="until", until="2024-05-01T12:00:00+02:00", timezone="Asia/Seoul")
    assert info.value.resume_at == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def test_a_moment_already_past_returns_at_once():
    assert run(mode="until", until="2024-04-30T00:00:00Z") == {"waited_until": NOW.isoformat()}
    assert run(mode="for", amount=0, unit="hours") == {"waited_until": NOW.isoformat()}


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ({"mode": "for", "amount": 31, "unit": "days"}, "at most 30 days"),
        ({"mode": "until", "until": "2024-07-01T00:00:00Z"}, "at most 30 days"),
        ({"mode": "for", "amount": -1, "unit": "hours"}, "negative"),
        ({"mode": "for", "amount": "soon", "unit": "hours"}, "not a number"),
        ({"mode": "for", "amount": 1, "unit": "years"}, "not a unit"),
        ({"mode": "until", "until": "next tuesday"}, "not a date"),
        ({"mode": "until", "until": "2024-05-02", "timezone": "Nowhere/City"}, "not a time zone"),
        ({"mode": "sometime"}, "not a delay mode"),
    ],
)
def test_bad_settings_are_permanent_errors(config, words):
    with pytest.raises(IntegrationError) as info:
        run(**config)
    assert info.value.permanent
    assert words in info.value.message
