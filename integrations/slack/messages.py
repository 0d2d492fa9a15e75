"""Slack actions on a posted message: react to it, edit it."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from integrations.base import Action, Context, Field, OutputField
from integrations.slack.actions import channel_choices
from integrations.slack.calls import call, request_preview

# Which message: its time stamp, as Slack names messages within a channel.
MESSAGE_TS = Field(
    "ts",
    _("Message time stamp"),
    required=True,
    help=_("The “ts” of the message, for example from the step that posted it."),
)


def channel_field(help_text: Any = "") -> Field:
    return Field(
        "channel",
        _("Channel"),
        kind="choice",
        required=True,
        help=help_text or _("Private channels appear once the bot has been invited to them."),
        dynamic_choices=channel_choices,
    )


def emoji_name(value: Any) -> str:
    """Slack wants ``thumbsup``; people type ``:thumbsup:`` as often as not."""
    return str(value or "").strip().strip(":").strip()


def add_reaction(ctx: Context) -> dict[str, Any]:
    config = ctx.config
    channel, ts, name = str(config["channel"]), str(config["ts"]), emoji_name(config["emoji"])
    about = {"channel": channel, "ts": ts, "emoji": name}
    # Already there is what the step asked for: a trigger delivered twice must not fail.
    call(
        ctx,
        ctx.client().reactions_add,
        about,
        ignore=("already_reacted",),
        channel=channel,
        timestamp=ts,
        name=name,
    )
    return {"channel": channel, "ts": ts, "emoji": name}


def preview_add_reaction(ctx: Context) -> dict[str, Any]:
    config = ctx.config
    body = {"channel": str(config["channel"]), "timestamp": str(config["ts"])}
    return request_preview("reactions.add", {**body, "name": emoji_name(config["emoji"])})


ADD_REACTION = Action(
    key="add_reaction",
    label=_("Add a reaction"),
    help=_("Adds an emoji reaction to a message as the hub's bot."),
    run=add_reaction,
    preview=preview_add_reaction,
    effect="write",
    fields=(
        channel_field(),
        MESSAGE_TS,
        Field(
            "emoji",
            _("Emoji"),
            required=True,
            default="thumbsup",
            help=_("An emoji name such as thumbsup or :white_check_mark:."),
        ),
    ),
    outputs=(
        OutputField("channel", _("Channel ID")),
        OutputField("ts", _("Message time stamp")),
        OutputField("emoji", _("Emoji")),
    ),
    sample={"channel": "C0123ABCD", "ts": "1718000000.000100", "emoji": "thumbsup"},
)


def update_message(ctx: Context) -> dict[str, Any]:
    config = ctx.config
    channel, ts = str(config["channel"]), str(config["ts"])
    answer = call(
        ctx,
        ctx.client().chat_update,
        {"channel": channel, "ts": ts},
        channel=channel,
        ts=ts,
        text=config["text"],
    )
    return {
        "channel": answer.get("channel") or channel,
        "ts": answer.get("ts") or ts,
        "text": answer.get("text", config["text"]),
    }


def preview_update_message(ctx: Context) -> dict[str, Any]:
    config = ctx.config
    body = {"channel": str(config["channel"]), "ts": str(config["ts"]), "text": config["text"]}
    return request_preview("chat.update", body)


UPDATE_MESSAGE = Action(
    key="update_message",
    label=_("Edit a message"),
    help=_("Replaces the text of a message the hub's bot posted earlier."),
    run=update_message,
    preview=preview_update_message,
    effect="write",
    fields=(
        channel_field(),
        MESSAGE_TS,
        Field("text", _("New text"), kind="long_text", required=True),
    ),
    outputs=(
        OutputField("channel", _("Channel ID")),
        OutputField("ts", _("Message time stamp")),
        OutputField("text", _("Message text")),
    ),
    sample={"channel": "C0123ABCD", "ts": "1718000000.000100", "text": "Updated: all done"},
)
