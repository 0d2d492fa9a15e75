"""Gmail actions that write mail: send, draft, reply. Each builds the exact request first
(``*_request``), so the request can be shown without sending it."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from integrations.base import Action, Context, Field, IntegrationError, OutputField
from integrations.gmail import mime

ADDRESS_HELP = _("One or more email addresses, separated by commas.")

TO = Field("to", _("To"), required=True, help=ADDRESS_HELP)
CC = Field("cc", _("Cc"), help=ADDRESS_HELP)
BCC = Field("bcc", _("Bcc"), help=_("Hidden recipients; one or more addresses, comma-separated."))
SUBJECT = Field("subject", _("Subject"), required=True)
BODY = Field("body", _("Body"), kind="long_text", required=True, help=_("Plain text."))
HTML_BODY = Field(
    "html_body",
    _("HTML body"),
    kind="long_text",
    help=_("Optional. Mail apps that show HTML show this; the others show the plain body."),
)
REPLY_TO = Field(
    "reply_to", _("Reply-to address"), help=_("Where replies go, when not to this mailbox.")
)
COMPOSE_FIELDS = (TO, CC, BCC, SUBJECT, BODY, HTML_BODY, REPLY_TO)


def _message_from(config: dict[str, Any]):
    body = str(config.get("body") or "")
    if not mime.addresses(config.get("to")):
        raise IntegrationError(gettext("Add at least one address in To."), permanent=True)
    return mime.build_message(
        to=mime.addresses(config.get("to")),
        cc=mime.addresses(config.get("cc")),
        bcc=mime.addresses(config.get("bcc")),
        subject=str(config.get("subject") or ""),
        body=body,
        html_body=str(config.get("html_body") or ""),
        reply_to=mime.addresses(config.get("reply_to")),
    )


def send_request(ctx: Context) -> dict[str, Any]:
    return {
        "method": "POST",
        "path": "users/me/messages/send",
        "body": {"raw": mime.raw(_message_from(ctx.config))},
    }


def send_email(ctx: Context) -> dict[str, Any]:
    raw = send_request(ctx)["body"]["raw"]
    sent = ctx.client().send(raw)
    return {"id": sent.get("id", ""), "thread_id": sent.get("threadId", "")}


def draft_request(ctx: Context) -> dict[str, Any]:
    return {
        "method": "POST",
        "path": "users/me/drafts",
        "body": {"message": {"raw": mime.raw(_message_from(ctx.config))}},
    }


def create_draft(ctx: Context) -> dict[str, Any]:
    raw = draft_request(ctx)["body"]["message"]["raw"]
    draft = ctx.client().create_draft(raw)
    message = draft.get("message") or {}
    return {
        "draft_id": draft.get("id", ""),
        "id": message.get("id", ""),
        "thread_id": message.get("threadId", ""),
    }


REPLY_HEADERS = ("Subject", "From", "To", "Cc", "Reply-To", "Message-ID", "References")


def reply_request(ctx: Context, client: Any) -> dict[str, Any]:
    """Reads the original (one call; two with reply-all, to leave this mailbox out) and builds
    the reply: same thread, In-Reply-To and References, one "Re:"."""
    message_id = str(ctx.config.get("message_id") or "").strip()
    if not message_id:
        raise IntegrationError(gettext("Choose the email to reply to."), permanent=True)
    original = client.message(message_id, "metadata", REPLY_HEADERS)
    headers = mime.header_map(original.get("payload") or {})
    sender = headers.get("reply-to") or headers.get("from", "")
    to, cc = [sender], []
    # Answering a message this mailbox sent goes to its recipients again, as Gmail does.
    if "SENT" in (original.get("labelIds") or []):
        to = mime.split_addresses(headers.get("to", "")) or to
    if ctx.config.get("reply_all"):
        me = str(client.profile().get("emailAddress") or "").lower()
        everyone = mime.split_addresses(headers.get("to", "")) + mime.split_addresses(
            headers.get("cc", "")
        )
        seen = {a.lower() for a in mime.split_addresses(", ".join(to))} | {me}
        for address in everyone:
            if address.lower() not in seen:
                seen.add(address.lower())
                cc.append(address)
    message_ref = headers.get("message-id", "")
    references = " ".join(x for x in (headers.get("references", ""), message_ref) if x)
    mail = mime.build_message(
        to=mime.addresses(to),
        cc=mime.addresses(cc),
        subject=mime.reply_subject(headers.get("subject", "")),
        body=str(ctx.config.get("body") or ""),
        headers={"In-Reply-To": message_ref, "References": references},
    )
    return {
        "method": "POST",
        "path": "users/me/messages/send",
        "body": {"raw": mime.raw(mail), "threadId": original.get("threadId")},
    }


def reply_to_email(ctx: Context) -> dict[str, Any]:
    client = ctx.client()
    body = reply_request(ctx, client)["body"]
    sent = client.send(body["raw"], body["threadId"])
    return {"id": sent.get("id", ""), "thread_id": sent.get("threadId", "")}


SENT_OUTPUTS = (
    OutputField("id", _("Message ID")),
    OutputField("thread_id", _("Thread ID")),
)
SEND_EMAIL = Action(
    key="send_email",
    label=_("Send an email"),
    run=send_email,
    preview=send_request,
    effect="write",
    help=_("Sends from the connected mailbox; Korean and other scripts arrive intact."),
    fields=COMPOSE_FIELDS,
    outputs=SENT_OUTPUTS,
    sample={"id": "18c1f2a3b4c5d6e7", "thread_id": "18c1f2a3b4c5d6e7"},
)

CREATE_DRAFT = Action(
    key="create_draft",
    label=_("Create a draft"),
    run=create_draft,
    preview=draft_request,
    effect="write",
    help=_("Saves the email in Drafts for someone to check and send."),
    fields=COMPOSE_FIELDS,
    outputs=(OutputField("draft_id", _("Draft ID")), *SENT_OUTPUTS),
    sample={
        "draft_id": "r-4829301245871234567",
        "id": "18c1f2a3b4c5d6e8",
        "thread_id": "18c1f2a3b4c5d6e8",
    },
)


def preview_reply(ctx: Context) -> dict[str, Any]:
    """The reply it would send. Building it reads the original email (a read, never a send),
    since the reply's recipients, subject and threading come from it."""
    return reply_request(ctx, ctx.client())


REPLY_TO_EMAIL = Action(
    key="reply_to_email",
    label=_("Reply to an email"),
    run=reply_to_email,
    preview=preview_reply,
    effect="write",
    help=_("Replies in the same conversation, so it shows up threaded in every mail app."),
    fields=(
        Field(
            "message_id",
            _("Email"),
            required=True,
            help=_("The ID of the email to answer, usually from the trigger or an earlier step."),
        ),
        BODY,
        Field(
            "reply_all",
            _("Reply to all"),
            kind="bool",
            default=False,
            help=_("Also send to everyone the email was sent to or copied to."),
        ),
    ),
    outputs=SENT_OUTPUTS,
    sample={"id": "18c1f2a3b4c5d6e9", "thread_id": "18c1f2a3b4c5d6e7"},
)
