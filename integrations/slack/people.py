"""Slack actions about people: find someone by email, message them directly."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from integrations.base import Action, Context, Field, OutputField
from integrations.slack.calls import call, request_preview
from integrations.slack.pickers import user_choices


def person(user: dict[str, Any]) -> dict[str, Any]:
    profile = user.get("profile") or {}
    return {
        "id": user["id"],
        "name": user.get("name") or "",
        "real_name": profile.get("real_name") or user.get("real_name") or "",
        "email": profile.get("email") or "",
    }


def lookup(ctx: Context, email: str) -> dict[str, Any]:
    email = email.strip()
    answer = call(ctx, ctx.client().users_lookupByEmail, {"user": email}, email=email)
    return answer["user"]


def find_user_by_email(ctx: Context) -> dict[str, Any]:
    return person(lookup(ctx, str(ctx.config["email"])))


FIND_USER_BY_EMAIL = Action(
    key="find_user_by_email",
    label=_("Find a person by email"),
    help=_("Looks up the Slack member with an email address, for later steps to mention or DM."),
    run=find_user_by_email,
    effect="read",
    fields=(Field("email", _("Email address"), required=True),),
    outputs=(
        OutputField("id", _("User ID")),
        OutputField("name", _("Username")),
        OutputField("real_name", _("Full name")),
        OutputField("email", _("Email address")),
    ),
    sample={"id": "U0123ABCD", "name": "ada", "real_name": "Ada Lovelace", "email": "ada@acme.com"},
)


def user_id(ctx: Context, value: Any) -> str:
    """A picked member's id as is; an email address (typed, or mapped from an earlier step)
    looked up first."""
    text = str(value or "").strip()
    return lookup(ctx, text)["id"] if "@" in text else text


def send_direct_message(ctx: Context) -> dict[str, Any]:
    config = ctx.config
    user = user_id(ctx, config["user"])
    client = ctx.client()
    opened = call(ctx, client.conversations_open, {"user": user}, users=user)
    channel = opened["channel"]["id"]
    answer = call(
        ctx, client.chat_postMessage, {"channel": channel}, channel=channel, text=config["text"]
    )
    message = answer.get("message") or {}
    return {
        "user": user,
        "channel": answer.get("channel") or channel,
        "ts": answer.get("ts"),
        "text": message.get("text", config["text"]),
    }


def preview_send_direct_message(ctx: Context) -> dict[str, Any]:
    """The message it posts; ``requests`` lists every request in order (opening the direct
    message first).
    Nothing is called: a person given by email is looked up only when the step runs."""
    config = ctx.config
    who = str(config["user"]).strip()
    if "@" in who:
        who = _("(the Slack member with the email address %(email)s)") % {"email": who}
    posted = request_preview(
        "chat.postMessage",
        {"channel": str(_("(the direct message channel opened first)")), "text": config["text"]},
    )
    opening = request_preview("conversations.open", {"users": str(who)})
    return {**posted, "requests": [opening, posted]}


SEND_DIRECT_MESSAGE = Action(
    key="send_direct_message",
    label=_("Send a direct message"),
    help=_("Sends a direct message to one person from the hub's bot."),
    run=send_direct_message,
    preview=preview_send_direct_message,
    effect="write",
    fields=(
        Field(
            "user",
            _("Person"),
            kind="choice",
            required=True,
            help=_("Pick someone, or give an email address (for example from an earlier step)."),
            dynamic_choices=user_choices,
        ),
        Field("text", _("Message"), kind="long_text", required=True),
    ),
    outputs=(
        OutputField("user", _("User ID")),
        OutputField("channel", _("Direct message channel ID")),
        OutputField("ts", _("Message time stamp")),
        OutputField("text", _("Message text")),
    ),
    sample={
        "user": "U0123ABCD",
        "channel": "D0123ABCD",
        "ts": "1718000000.000100",
        "text": "Your task “Renew the contract” is due Friday.",
    },
)
