"""The Slack message triggers' polling fallback over conversations.history, for a hub that has
neither the Events API nor Socket Mode set up (called as the poller calls it)."""

from __future__ import annotations

import pytest

from hub.engine import app_events
from integrations import registry
from integrations.base import Context, IntegrationError, PollRequest
from tests.conftest import slack_connection


def context(workspace, fake, **config):
    return Context(
        workspace_id=workspace.pk,
        config={"channel": fake.general, **config},
        connection=slack_connection(workspace, fake),
        integration=registry.get("slack"),
    )


def poll_of(key):
    return registry.get("slack").trigger(key).poll


def test_seed_fires_nothing_old_then_new_messages_come_oldest_first_in_batches(
    workspace, fake_slack
):
    poll = poll_of("new_message")
    ctx = context(workspace, fake_slack)
    fake_slack.add_message(fake_slack.general, "before publishing")
    seeded = poll(ctx, PollRequest(mode="seed"))
    assert seeded.items == []
    texts = [f"message {n}" for n in range(250)]
    for text in texts:
        fake_slack.add_message(fake_slack.general, text)
    seen: set[str] = set()
    cursor, got, polls = seeded.cursor, [], 0
    while True:
        result = poll(ctx, PollRequest(cursor=cursor, limit=100, seen=frozenset(seen)))
        polls += 1
        got += [i.data["text"] for i in result.items]
        seen |= {i.id for i in result.items}
        cursor = result.cursor
        if not result.more:
            break
    assert got == texts and polls == 3
    assert poll(ctx, PollRequest(cursor=cursor, seen=frozenset(seen))).items == []


def test_bots_and_replies_are_left_out_when_asked(workspace, fake_slack):
    poll = poll_of("new_message")
    ctx = context(workspace, fake_slack, ignore_bots=True, top_level_only=True)
    cursor = poll(ctx, PollRequest(mode="seed")).cursor
    parent = fake_slack.add_message(fake_slack.general, "parent")
    reply = fake_slack.add_message(fake_slack.general, "a reply")
    reply["thread_ts"] = parent["ts"]
    bot = fake_slack.add_message(fake_slack.general, "from a bot")
    bot["bot_id"] = "B0OTHER"
    result = poll(ctx, PollRequest(cursor=cursor))
    assert [i.data["text"] for i in result.items] == ["parent"]
    assert result.cursor == bot["ts"]  # skipped messages are passed, not read again


def test_mentions_are_polled_by_the_bots_user_id(workspace, fake_slack):
    poll = poll_of("app_mentioned")
    ctx = context(workspace, fake_slack)
    cursor = poll(ctx, PollRequest(mode="seed")).cursor
    fake_slack.add_message(fake_slack.general, "no mention here")
    fake_slack.add_message(fake_slack.general, f"<@{fake_slack.bot_user_id}> summarise")
    result = poll(ctx, PollRequest(cursor=cursor))
    assert [i.data["text"] for i in result.items] == [f"<@{fake_slack.bot_user_id}> summarise"]


def test_test_mode_returns_the_newest_few_without_moving_the_cursor(workspace, fake_slack):
    poll = poll_of("new_message")
    ctx = context(workspace, fake_slack)
    for n in range(5):
        fake_slack.add_message(fake_slack.general, f"m{n}")
    result = poll(ctx, PollRequest(cursor="123.000001", mode="test"))
    assert [i.data["text"] for i in result.items] == ["m4", "m3", "m2"]
    assert result.cursor == "123.000001"


def test_a_rate_limit_is_a_passing_fault_with_retry_after(workspace, fake_slack):
    poll = poll_of("new_message")
    ctx = context(workspace, fake_slack)
    fake_slack.rate_limit("conversations.history", retry_after=7)
    with pytest.raises(IntegrationError) as caught:
        poll(ctx, PollRequest(cursor="1.0"))
    assert caught.value.retryable and caught.value.retry_after == 7


def test_reactions_cannot_be_polled_and_the_hub_says_when_it_must_poll(
    workspace, fake_slack, settings
):
    assert registry.get("slack").trigger("reaction_added").poll is None
    settings.HUB_BASE_URL = "http://127.0.0.1:8000"
    assert app_events.instant_ready("slack") is False  # signing secret, but no public address
    settings.HUB_BASE_URL = "https://hub.acme.test"
    assert app_events.instant_ready("slack") is True
    settings.SLACK_SIGNING_SECRET = ""
    assert app_events.instant_ready("slack") is False
    settings.SLACK_APP_TOKEN = "xapp-1-A0FAKE-1-secret"
    assert app_events.instant_ready("slack") is True  # Socket Mode needs no public address
