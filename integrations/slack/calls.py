"""One way to call Slack from an action: SDK errors become IntegrationError with words a
member can act on, naming the channel, message or person the step was about."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin

from django.conf import settings
from django.utils.translation import gettext as _
from slack_sdk.errors import SlackApiError

from integrations.base import Context, IntegrationError


def error_code(exc: SlackApiError) -> str:
    data = exc.response.data
    return str(data.get("error") or "") if isinstance(data, dict) else ""


def channel_label(ctx: Context, channel: str) -> str:
    """``#name`` for an id when Slack will say (conversations.info needs no membership for
    public channels), else the reference as the member gave it."""
    if not channel or channel.startswith("#"):
        return channel or "?"
    try:
        info = ctx.client().conversations_info(channel=channel)
    except Exception:  # only for wording an error already being raised
        return channel
    name = (info.get("channel") or {}).get("name")
    return f"#{name}" if name else channel


def _message(ctx: Context, code: str, about: dict[str, Any]) -> str | None:
    channel = str(about.get("channel") or "")
    if code == "not_in_channel":
        name = channel_label(ctx, channel)
        return _("The bot is not in %(channel)s — type /invite @Toolstack in %(channel)s.") % {
            "channel": name
        }
    if code == "channel_not_found":
        return _(
            "Slack cannot find that channel (%(channel)s). Pick it again from the list; for a "
            "private channel, invite @Toolstack to it first."
        ) % {"channel": channel or "?"}
    if code in ("users_not_found", "user_not_found"):
        return _(
            "No one in this Slack workspace has the email address or id %(user)s. Check the "
            "address, or pick the person from the list."
        ) % {"user": about.get("user") or "?"}
    if code == "invalid_name":
        return _(
            "Slack has no emoji called :%(emoji)s:. Use a name from Slack's emoji picker, "
            "such as thumbsup."
        ) % {"emoji": about.get("emoji") or "?"}
    if code == "cant_update_message":
        return _(
            "Slack lets the bot edit only messages it posted itself; the message %(ts)s was "
            "posted by someone else."
        ) % {"ts": about.get("ts") or "?"}
    if code == "message_not_found":
        return _(
            "Slack has no message with time stamp %(ts)s in %(channel)s. Use the “ts” output "
            "of the step that posted it."
        ) % {"ts": about.get("ts") or "?", "channel": channel_label(ctx, channel)}
    if code == "edit_window_closed":
        return _("Slack no longer allows editing that message.")
    return None


def call(
    ctx: Context,
    method: Callable[..., Any],
    about: dict[str, Any],
    *,
    ignore: tuple[str, ...] = (),
    **params: Any,
) -> Any:
    """``method(**params)`` on the SDK client; ``about`` names what the step was about.
    Error codes in ``ignore`` mean the work is already done: the answer is None."""
    with ctx.integration.errors():
        try:
            return method(**params)
        except SlackApiError as exc:
            code = error_code(exc)
            if code in ignore:
                return None
            text = _message(ctx, code, about)
            if text is not None and exc.response.status_code != 429:
                raise IntegrationError(text, permanent=True) from None
            raise


def request_preview(method: str, body: dict[str, Any]) -> dict[str, Any]:
    """The request slack-sdk sends for a Web API method: a JSON POST to the method's URL under
    SLACK_API_URL (joined as the SDK joins it), the bearer token left out."""
    return {
        "method": "POST",
        "url": urljoin(settings.SLACK_API_URL, method),
        "headers": {"Content-Type": "application/json;charset=utf-8"},
        "body": body,
    }
