"""Slack triggers: a new message in a channel, a mention of the hub's bot, a reaction added.

They are instant: Slack pushes each event to the hub (the Events API at ``/apps/slack/events``,
or Socket Mode where the hub has no public address) and the hub routes it by team to every
recipe it fires (``integrations.slack.events`` decides which). Where neither is set up, the
message triggers fall back to polling ``conversations.history`` with the newest ``ts`` seen as
the cursor; reactions cannot be polled.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from integrations.base import (
    Context,
    Field,
    IntegrationError,
    OutputField,
    PollItem,
    PollRequest,
    PollResult,
    Trigger,
)
from integrations.slack.actions import channel_choices
from integrations.slack.events import matches, message_data

PAGE_SIZE = 200
# A poll reads at most this many pages of history newer than its cursor (a burst beyond
# them is left for the following polls, which go on from the newest message taken).
MAX_PAGES = 25
TEST_ITEMS = 3

_INSTANT_HELP = _(
    "Starts within seconds through Slack's Events API (or Socket Mode). Without either, the "
    "hub checks the channel every poll interval instead."
)


def _channel(required: bool, help_text: Any) -> Field:
    return Field(
        "channel",
        _("Channel"),
        kind="choice",
        required=required,
        help=help_text,
        dynamic_choices=channel_choices,
    )


MESSAGE_OUTPUTS = (
    OutputField("channel", _("Channel ID")),
    OutputField("user", _("Posted by (user ID)")),
    OutputField("text", _("Text")),
    OutputField("ts", _("Message time stamp")),
    OutputField("thread_ts", _("Thread time stamp")),
    OutputField("is_reply", _("Is a thread reply"), kind="bool"),
    OutputField("is_bot", _("Posted by a bot"), kind="bool"),
    OutputField("team_id", _("Slack workspace ID")),
)
MESSAGE_SAMPLE = {
    "channel": "C0123SUPPORT",
    "user": "U0123ADA",
    "text": "Our invoices page shows an error since this morning.",
    "ts": "1767225600.000100",
    "thread_ts": "",
    "is_reply": False,
    "is_bot": False,
    "team_id": "T0123ACME",
}


def _history(ctx: Context, channel: str, oldest: str | None, limit: int, pages: int):
    """Messages of ``channel`` newer than ``oldest``, newest first, at most ``pages`` pages."""
    client = ctx.client()
    found: list[dict[str, Any]] = []
    cursor = None
    with ctx.integration.errors():
        for _page in range(pages):
            answer = client.conversations_history(
                channel=channel, oldest=oldest, limit=limit, cursor=cursor
            )
            found += answer.get("messages") or []
            cursor = (answer.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor or not answer.get("has_more"):
                break
    return found


def _bot_user(ctx: Context) -> str:
    with ctx.integration.errors():
        return str(ctx.client().auth_test().get("user_id") or "")


def _poll_channel(ctx: Context, request: PollRequest, keep) -> PollResult:
    channel = str(ctx.config.get("channel") or "")
    if not channel:
        raise IntegrationError(
            gettext("Choose a channel: without Slack events the hub reads one channel's history."),
            permanent=True,
        )
    if request.mode == "seed":
        # The newest message's own time stamp, not this machine's clock (which may differ
        # from Slack's); an empty channel has nothing old to skip.
        newest = _history(ctx, channel, None, 1, 1)
        return PollResult([], cursor=newest[0]["ts"] if newest else "0")
    if request.mode == "test":
        recent = [m for m in _history(ctx, channel, None, PAGE_SIZE, 1) if keep(m)]
        items = [_item(channel, m, ctx) for m in recent[:TEST_ITEMS]]
        return PollResult(items, cursor=request.cursor)
    found = _history(ctx, channel, request.cursor, PAGE_SIZE, MAX_PAGES)
    found.sort(key=lambda m: float(m["ts"]))
    fresh = [m for m in found if f"{channel}:{m['ts']}" not in request.seen]
    taken = fresh[: request.limit]
    cursor = taken[-1]["ts"] if taken else request.cursor
    items = [_item(channel, m, ctx) for m in taken if keep(m)]
    return PollResult(items, cursor=cursor, more=len(fresh) > len(taken))


def _item(channel: str, message: dict[str, Any], ctx: Context) -> PollItem:
    data = message_data({**message, "channel": channel}, str(message.get("team") or ""))
    return PollItem(f"{channel}:{message['ts']}", data)


def poll_new_messages(ctx: Context, request: PollRequest) -> PollResult:
    def keep(message):
        return matches(
            "new_message",
            ctx.config,
            {"type": "message", **message, "channel": ctx.config["channel"]},
        )

    return _poll_channel(ctx, request, keep)


def poll_mentions(ctx: Context, request: PollRequest) -> PollResult:
    mention = f"<@{_bot_user(ctx)}>"

    def keep(message):
        return mention in str(message.get("text") or "")

    return _poll_channel(ctx, request, keep)


NEW_MESSAGE = Trigger(
    key="new_message",
    label=_("New message in a channel"),
    help=_INSTANT_HELP,
    instant=True,
    poll=poll_new_messages,
    fields=(
        _channel(True, _("The hub's bot must be in the channel to see its messages.")),
        Field(
            "ignore_bots",
            _("Ignore messages from bots"),
            kind="bool",
            default=False,
            help=_("Leave out messages posted by bots and apps, the hub's own included."),
        ),
        Field(
            "top_level_only",
            _("Only top-level messages"),
            kind="bool",
            default=False,
            help=_("Leave out replies in threads."),
        ),
    ),
    outputs=MESSAGE_OUTPUTS,
    sample=MESSAGE_SAMPLE,
)

APP_MENTIONED = Trigger(
    key="app_mentioned",
    label=_("The hub's bot is mentioned"),
    help=_INSTANT_HELP,
    instant=True,
    poll=poll_mentions,
    fields=(_channel(False, _("Only mentions in this channel; any channel when left empty.")),),
    outputs=MESSAGE_OUTPUTS,
    sample={**MESSAGE_SAMPLE, "text": "<@U0123HUB> please summarise this thread"},
)

REACTION_ADDED = Trigger(
    key="reaction_added",
    label=_("Reaction added to a message"),
    help=_(
        "Starts within seconds through Slack's Events API (or Socket Mode); it needs one of "
        "them, since reactions cannot be read back by polling."
    ),
    instant=True,
    fields=(
        Field(
            "emoji",
            _("Emoji"),
            placeholder="white_check_mark",
            help=_("Only this reaction, by name without colons; any reaction when left empty."),
        ),
        _channel(False, _("Only reactions in this channel; any channel when left empty.")),
    ),
    outputs=(
        OutputField("emoji", _("Emoji")),
        OutputField("user", _("Reacted by (user ID)")),
        OutputField("channel", _("Channel ID")),
        OutputField("message_ts", _("Message time stamp")),
        OutputField("message_user", _("Message author (user ID)")),
        OutputField("team_id", _("Slack workspace ID")),
    ),
    sample={
        "emoji": "white_check_mark",
        "user": "U0123ADA",
        "channel": "C0123SUPPORT",
        "message_ts": "1767225600.000100",
        "message_user": "U0123GRACE",
        "team_id": "T0123ACME",
    },
)

TRIGGERS = {t.key: t for t in (NEW_MESSAGE, APP_MENTIONED, REACTION_ADDED)}
