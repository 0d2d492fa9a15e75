"""Slack's Events API: the request signature, and which trigger an event fires with what data.

Slack signs every request it sends with the app's signing secret: ``X-Slack-Signature`` is
``v0=`` + hex HMAC-SHA256 of ``v0:{X-Slack-Request-Timestamp}:{raw body}``. A timestamp more
than five minutes away is refused, so a captured request cannot be replayed later; within
those minutes the event's ``event_id`` dedupes it. The same event arrives over Socket Mode
without a signature (the websocket is authenticated by the app-level token instead).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _

MAX_AGE_SECONDS = 5 * 60

# Message subtypes that are a new message someone posted; every other subtype is a change
# to an old one (edited, deleted), a channel notice (joined, renamed) or similar.
NEW_MESSAGE_SUBTYPES = frozenset(
    {"", "bot_message", "thread_broadcast", "file_share", "me_message"}
)


class Refused(Exception):
    """The request is not from Slack, or not now; ``reason`` says which (in English, as the
    hub's other machine-facing answers)."""

    def __init__(self, reason: Any) -> None:
        super().__init__(str(reason))
        self.reason = reason


def verify(
    secrets: Iterable[str], headers: Mapping[str, str], body: bytes, now: float | None = None
) -> None:
    """Raise Refused unless ``body`` is signed by one of ``secrets`` with a fresh timestamp.
    The body is not parsed. ``secrets`` is read lazily, stopping at the one that matches
    (the deployment's own first, so the common case reads no more)."""
    stamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not stamp or not signature:
        raise Refused(_("The request is not signed by Slack."))
    try:
        age = abs((time.time() if now is None else now) - int(stamp))
    except ValueError:
        raise Refused(_("The request's time stamp is not a number.")) from None
    if age > MAX_AGE_SECONDS:
        raise Refused(_("The request's time stamp is more than five minutes old."))
    base = b"v0:" + stamp.encode() + b":" + body
    tried = 0
    for secret in secrets:
        if not secret:
            continue
        tried += 1
        expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
        if hmac.compare_digest(expected.encode(), signature.encode()):
            return
    if not tried:
        raise Refused(_("Slack events are not set up: enter the Slack app's signing secret."))
    raise Refused(_("The request's signature does not match the signing secret."))


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def emoji_name(value: Any) -> str:
    return str(value or "").strip().strip(":").lower()


def is_reply(event: Mapping[str, Any]) -> bool:
    thread = event.get("thread_ts")
    return bool(thread) and thread != event.get("ts")


def is_bot(event: Mapping[str, Any]) -> bool:
    return bool(event.get("bot_id")) or event.get("subtype") == "bot_message"


def matches(trigger: str, config: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """Whether the event fires the trigger ``trigger`` set up with ``config``."""
    kind = event.get("type")
    channel = str(config.get("channel") or "")
    if trigger == "new_message":
        if kind != "message" or str(event.get("subtype") or "") not in NEW_MESSAGE_SUBTYPES:
            return False
        if channel and event.get("channel") != channel:
            return False
        if _flag(config.get("ignore_bots")) and is_bot(event):
            return False
        return not (_flag(config.get("top_level_only")) and is_reply(event))
    if trigger == "app_mentioned":
        return kind == "app_mention" and (not channel or event.get("channel") == channel)
    if trigger == "reaction_added":
        if kind != "reaction_added":
            return False
        item = event.get("item") or {}
        if channel and item.get("channel") != channel:
            return False
        wanted = emoji_name(config.get("emoji"))
        return not wanted or emoji_name(event.get("reaction")) == wanted
    return False


def message_data(event: Mapping[str, Any], team_id: str = "") -> dict[str, Any]:
    """A message (or mention) as the trigger's outputs."""
    ts = str(event.get("ts") or "")
    return {
        "channel": str(event.get("channel") or ""),
        "user": str(event.get("user") or event.get("bot_id") or ""),
        "text": str(event.get("text") or ""),
        "ts": ts,
        "thread_ts": str(event.get("thread_ts") or ""),
        "is_reply": is_reply(event),
        "is_bot": is_bot(event),
        "team_id": team_id,
    }


def reaction_data(event: Mapping[str, Any], team_id: str = "") -> dict[str, Any]:
    item = event.get("item") or {}
    return {
        "emoji": emoji_name(event.get("reaction")),
        "user": str(event.get("user") or ""),
        "channel": str(item.get("channel") or ""),
        "message_ts": str(item.get("ts") or ""),
        "message_user": str(event.get("item_user") or ""),
        "team_id": team_id,
    }


def trigger_data(trigger: str, envelope: Mapping[str, Any]) -> dict[str, Any]:
    """The run's trigger data for an ``event_callback`` envelope."""
    event = envelope.get("event") or {}
    team_id = str(envelope.get("team_id") or "")
    data = (
        reaction_data(event, team_id)
        if trigger == "reaction_added"
        else message_data(event, team_id)
    )
    return data


def item_id(trigger: str, envelope: Mapping[str, Any]) -> str:
    """The event's identity for exactly-once firing. A message (or mention) is its channel and
    ``ts`` — the id the polling fallback gives it too, so a message that reaches a recipe both
    as an event and by a poll (Socket Mode and polling both on, say) fires once; Slack's retries
    carry the same message. A reaction has no such id: Slack's ``event_id``."""
    event = envelope.get("event") or {}
    if trigger in ("new_message", "app_mentioned") and event.get("channel") and event.get("ts"):
        return f"{event['channel']}:{event['ts']}"
    return str(envelope.get("event_id") or "")


TRIGGER_KEYS = ("new_message", "app_mentioned", "reaction_added")
# Which trigger each kind of event may fire, so routing reads only those recipes.
TRIGGERS_OF_EVENT = {
    "message": ("new_message",),
    "app_mention": ("app_mentioned",),
    "reaction_added": ("reaction_added",),
}
