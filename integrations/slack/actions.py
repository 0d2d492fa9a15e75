"""Slack actions."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from integrations.base import Action, Choice, ChoicePage, Context, Field, OutputField
from integrations.slack.calls import call, request_preview

PAGE_SIZE = 200
# Slack pages one search may read before answering with what it found and a next page: the
# picker asks again only when the member scrolls, not ten pages per keystroke.
SEARCH_PAGES = 3


def channel_choices(ctx: Context, search: str, page: str | None) -> ChoicePage:
    """Channels the bot can see (public and private, not archived), one Slack page at a time;
    ``search`` keeps names containing it, reading at most ``SEARCH_PAGES`` Slack pages."""
    client = ctx.client()
    needle = (search or "").strip().lstrip("#").lower()
    choices: list[Choice] = []
    cursor = page
    with ctx.integration.errors():
        for _round in range(SEARCH_PAGES):
            answer = client.conversations_list(
                types="public_channel,private_channel",
                exclude_archived=True,
                limit=PAGE_SIZE,
                cursor=cursor or None,
            )
            for channel in answer.get("channels", []):
                name = channel.get("name") or channel["id"]
                if needle and needle not in name.lower():
                    continue
                label = f"🔒 {name}" if channel.get("is_private") else f"#{name}"
                choices.append(Choice(channel["id"], label))
            cursor = (answer.get("response_metadata") or {}).get("next_cursor") or None
            if cursor is None or not needle or len(choices) >= 20:
                break
    return ChoicePage(choices, cursor)


def flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _message_params(config: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {"channel": config["channel"], "text": config["text"]}
    if config.get("thread_ts"):
        params["thread_ts"] = str(config["thread_ts"])
    if config.get("unfurl_links") not in (None, ""):
        params["unfurl_links"] = flag(config["unfurl_links"])
    return params


def send_message(ctx: Context) -> dict[str, Any]:
    params = _message_params(ctx.config)
    answer = call(ctx, ctx.client().chat_postMessage, params, **params)
    message = answer.get("message") or {}
    return {
        "channel": answer.get("channel"),
        "ts": answer.get("ts"),
        "text": message.get("text", ctx.config["text"]),
    }


def preview_send_message(ctx: Context) -> dict[str, Any]:
    """The chat.postMessage request slack-sdk sends for this config: a JSON POST to the
    method's URL under SLACK_API_URL (joined as the SDK joins it), bearer token left out."""
    return request_preview("chat.postMessage", _message_params(ctx.config))


SEND_MESSAGE = Action(
    key="send_message",
    label=_("Send a message"),
    help=_("Posts a message to a channel as the hub's bot."),
    run=send_message,
    preview=preview_send_message,
    effect="write",
    fields=(
        Field(
            "channel",
            _("Channel"),
            kind="choice",
            required=True,
            help=_("Private channels appear once the bot has been invited to them."),
            dynamic_choices=channel_choices,
        ),
        Field("text", _("Message"), kind="long_text", required=True),
        Field(
            "thread_ts",
            _("Reply in thread"),
            help=_("The time stamp of a message to reply under. Leave empty to post normally."),
        ),
        Field(
            "unfurl_links",
            _("Show link previews"),
            kind="bool",
            help=_("Let Slack add a preview under links in the message. Empty: Slack decides."),
        ),
    ),
    outputs=(
        OutputField("channel", _("Channel ID")),
        OutputField("ts", _("Message time stamp")),
        OutputField("text", _("Message text")),
    ),
    sample={"channel": "C0123ABCD", "ts": "1718000000.000100", "text": "Hello from the hub"},
)
