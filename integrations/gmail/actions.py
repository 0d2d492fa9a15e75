"""Gmail actions: the catalogue, gathered from the modules that build them."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from integrations.base import Action, Context, OutputField
from integrations.gmail.labels import ADD_LABEL, ARCHIVE_EMAIL, MARK_AS_READ, REMOVE_LABEL
from integrations.gmail.reading import FIND_EMAILS, GET_EMAIL
from integrations.gmail.sending import CREATE_DRAFT, REPLY_TO_EMAIL, SEND_EMAIL


def get_profile(ctx: Context) -> dict[str, Any]:
    profile = ctx.client().profile()
    return {
        "email": profile.get("emailAddress"),
        "messages_total": profile.get("messagesTotal"),
        "history_id": profile.get("historyId"),
    }


GET_PROFILE = Action(
    key="get_profile",
    label=_("Get the mailbox profile"),
    run=get_profile,
    effect="read",
    outputs=(
        OutputField("email", _("Email address")),
        OutputField("messages_total", _("Messages"), kind="number"),
        OutputField("history_id", _("History ID")),
    ),
    sample={"email": "ops@acme.test", "messages_total": 42, "history_id": "1000"},
)

ACTIONS = {
    action.key: action
    for action in (
        GET_PROFILE,
        SEND_EMAIL,
        CREATE_DRAFT,
        GET_EMAIL,
        REPLY_TO_EMAIL,
        FIND_EMAILS,
        ADD_LABEL,
        REMOVE_LABEL,
        MARK_AS_READ,
        ARCHIVE_EMAIL,
    )
}
