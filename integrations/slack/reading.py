"""Slack actions that read: a channel's recent messages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from integrations.base import Action, Context, Field, IntegrationError, OutputField
from integrations.dates import moment
from integrations.slack.calls import call
from integrations.slack.messages import channel_field

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
PAGE_SIZE = 200


def oldest(value: Any) -> str | None:
    """Slack's ``oldest`` (Unix seconds) for a date, date-time or timestamp; one without an
    offset is UTC, since a Slack workspace has no single time zone."""
    if value in (None, ""):
        return None
    if isinstance(value, int | float):
        return f"{float(value):.6f}"
    return f"{moment(value, UTC)[0].timestamp():.6f}"


def limit_of(value: Any) -> int:
    try:
        limit = int(value if value not in (None, "") else DEFAULT_LIMIT)
    except (TypeError, ValueError):
        raise IntegrationError(
            gettext("The number of messages must be a whole number."), permanent=True
        ) from None
    return max(1, min(limit, MAX_LIMIT))


def message_out(message: dict[str, Any]) -> dict[str, Any]:
    ts = str(message.get("ts") or "")
    at = datetime.fromtimestamp(float(ts), UTC).isoformat() if ts else ""
    return {
        "ts": ts,
        "time": at,
        "user": message.get("user") or message.get("bot_id") or "",
        "text": message.get("text") or "",
        "thread_ts": message.get("thread_ts") or "",
        "reply_count": int(message.get("reply_count") or 0),
    }


def list_messages(ctx: Context) -> dict[str, Any]:
    config = ctx.config
    channel = str(config["channel"])
    limit = limit_of(config.get("limit"))
    params: dict[str, Any] = {"channel": channel}
    since = oldest(config.get("since"))
    if since is not None:
        params["oldest"] = since
    client = ctx.client()
    messages: list[dict[str, Any]] = []
    cursor: str | None = None
    while len(messages) < limit:
        answer = call(
            ctx,
            client.conversations_history,
            {"channel": channel},
            limit=min(PAGE_SIZE, limit - len(messages)),
            cursor=cursor,
            **params,
        )
        messages.extend(message_out(m) for m in answer.get("messages", []))
        cursor = (answer.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor or not answer.get("has_more", True):
            break
    messages = messages[:limit]
    return {"messages": messages, "count": len(messages)}


LIST_MESSAGES = Action(
    key="list_messages",
    label=_("List messages in a channel"),
    help=_("Reads a channel's messages, newest first, for later steps to summarise or check."),
    run=list_messages,
    effect="read",
    fields=(
        channel_field(),
        Field(
            "since",
            _("Since"),
            kind="date",
            help=_("Only messages posted after this date or time (UTC unless it has an offset)."),
        ),
        Field(
            "limit",
            _("At most"),
            kind="number",
            default=DEFAULT_LIMIT,
            help=_("How many messages to read, newest first (up to 1,000)."),
        ),
    ),
    outputs=(
        OutputField("messages", _("Messages"), kind="list"),
        OutputField("count", _("Number of messages"), kind="number"),
    ),
    sample={
        "messages": [
            {
                "ts": "1718000000.000100",
                "time": "2024-06-10T06:13:20.000100+00:00",
                "user": "U0123ABCD",
                "text": "The release is out.",
                "thread_ts": "",
                "reply_count": 0,
            }
        ],
        "count": 1,
    },
)
