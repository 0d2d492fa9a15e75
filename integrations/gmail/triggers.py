"""Gmail triggers: a new email matching a search, and an email given a label.

Both poll ``users.history.list`` from the stored historyId (integrations/gmail/mail_sync.py)
and output what the get_email action outputs, plus the message's ``id``. Drafts, sent mail
and messages scheduled to be sent never fire; nor does spam or trash.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext_lazy as _

from integrations.base import (
    Context,
    Field,
    OutputField,
    PollItem,
    PollRequest,
    PollResult,
    Trigger,
)
from integrations.gmail import mail_sync
from integrations.gmail.labels import _label_id, label_choices
from integrations.gmail.reading import GET_EMAIL, email_output

# What the label picker stores: a user label's id or a system label's; anything else is a
# name a member typed, looked up (one labels.list call) on every poll.
LABEL_ID = re.compile(r"Label_\d+|[A-Z][A-Z_]*")


def _label(ctx: Context) -> str | None:
    """The label's id (a member may have typed its name), or None when none is chosen."""
    wanted = str(ctx.config.get("label") or "").strip()
    if not wanted or LABEL_ID.fullmatch(wanted):
        return wanted or None
    return _label_id(ctx, wanted, create=False)[0]


def _mailbox(ctx: Context) -> str:
    return getattr(ctx.connection, "label", "") or ""


def _items(client, ctx: Context, ids: list[str], query: str, label: str | None) -> list[PollItem]:
    """Each candidate fetched once, kept when it is incoming mail (with the label, when one
    is asked for) that the search finds; oldest first, as the candidates came."""
    messages = []
    for message_id in ids:
        message = client.message(message_id, "full")
        if mail_sync.incoming(message) and (not label or label in message.get("labelIds", [])):
            messages.append(message)
    found = mail_sync.matching(client, query, messages)
    return [_item(m, _mailbox(ctx)) for m in messages if m["id"] in found]


def _item(message: dict[str, Any], mailbox: str) -> PollItem:
    return PollItem(message["id"], {"id": message["id"], **email_output(message, mailbox)})


def _poll(ctx: Context, request: PollRequest, *, query: str, label, wanted, types) -> PollResult:
    client = ctx.client()
    if request.mode == "test":
        return mail_sync.newest(client, query, label, request.limit, _mailbox(ctx), _item)
    if request.mode == "seed" or not isinstance(request.cursor, dict):
        return mail_sync.seed(client)
    cursor = request.cursor
    try:
        if cursor.get("resync_from"):
            raise mail_sync.StaleHistory(cursor["history_id"])
        ids, cursor, more = mail_sync.read_history(
            client, cursor, wanted, types, label, request.limit, request.seen
        )
    except mail_sync.StaleHistory:
        ids, cursor, more = mail_sync.resync(
            client, request.cursor, query, label, request.limit, request.seen
        )
    return PollResult(_items(client, ctx, ids, query, label), cursor, more)


def poll_new_email(ctx: Context, request: PollRequest) -> PollResult:
    def added(record: dict[str, Any]) -> list[str]:
        return [
            entry["message"]["id"]
            for entry in record.get("messagesAdded") or []
            if mail_sync.incoming(entry["message"])
        ]

    query = str(ctx.config.get("query") or "").strip()
    return _poll(ctx, request, query=query, label=_label(ctx), wanted=added, types=["messageAdded"])


def poll_new_labeled_email(ctx: Context, request: PollRequest) -> PollResult:
    label = _label(ctx)

    def labelled(record: dict[str, Any]) -> list[str]:
        # A label put on an email, or mail arriving with it (a filter in Gmail applied it).
        ids = [
            entry["message"]["id"]
            for entry in record.get("labelsAdded") or []
            if label in (entry.get("labelIds") or [])
        ]
        return ids + [
            entry["message"]["id"]
            for entry in record.get("messagesAdded") or []
            if label in (entry["message"].get("labelIds") or [])
        ]

    return _poll(
        ctx, request, query="", label=label, wanted=labelled, types=["labelAdded", "messageAdded"]
    )


OUTPUTS = (OutputField("id", _("Message ID")), *GET_EMAIL.outputs)
SAMPLE = {"id": "18c1f2a3b4c5d6e7", **GET_EMAIL.sample}
LABEL_HELP = _("One of the account's labels, or a label's name.")

NEW_EMAIL = Trigger(
    key="new_email",
    label=_("New email"),
    help=_(
        "Starts a run for each new email that matches the search, within about a minute. "
        "Drafts, sent mail and scheduled messages never start one."
    ),
    fields=(
        Field(
            "query",
            _("Search"),
            help=_(
                "Gmail search words, as in Gmail's search box, e.g. "
                "is:important -category:promotions. Empty: every new email."
            ),
            accepts_references=False,
        ),
        Field(
            "label",
            _("Only with label"),
            kind="choice",
            dynamic_choices=label_choices,
            help=LABEL_HELP,
            accepts_references=False,
        ),
    ),
    outputs=OUTPUTS,
    sample=SAMPLE,
    poll=poll_new_email,
)

NEW_LABELED_EMAIL = Trigger(
    key="new_labeled_email",
    label=_("Email given a label"),
    help=_("Starts a run when an email gets the label (by hand or by a Gmail filter)."),
    fields=(
        Field(
            "label",
            _("Label"),
            kind="choice",
            required=True,
            dynamic_choices=label_choices,
            help=LABEL_HELP,
            accepts_references=False,
        ),
    ),
    outputs=OUTPUTS,
    sample=SAMPLE,
    poll=poll_new_labeled_email,
)

TRIGGERS = {t.key: t for t in (NEW_EMAIL, NEW_LABELED_EMAIL)}
