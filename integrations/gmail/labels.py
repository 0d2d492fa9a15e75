"""Gmail actions that change an email's labels: add or remove a label, mark as read, archive.

All four are one ``users.messages.modify`` call. A label is picked from the account's labels
(or typed by name); ``add_label`` may create a user label that does not exist yet.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from integrations.base import (
    Action,
    Choice,
    ChoicePage,
    Context,
    Field,
    IntegrationError,
    OutputField,
)

# System labels a person would put on or take off an email; the rest (SENT, DRAFT, the
# categories) Gmail manages itself.
PICKABLE_SYSTEM = ("STARRED", "IMPORTANT", "UNREAD", "INBOX", "SPAM", "TRASH")


def label_choices(ctx: Context, search: str, page: str | None) -> ChoicePage:
    """The account's own labels and the system labels a person sets, in one Gmail call (the
    labels list is not paged)."""
    needle = (search or "").strip().lower()
    labels = ctx.client().get("labels").get("labels") or []
    choices = [
        Choice(label["id"], label["name"] if label.get("type") == "user" else label["id"].title())
        for label in labels
        if label.get("type") == "user" or label.get("id") in PICKABLE_SYSTEM
    ]
    if needle:
        choices = [c for c in choices if needle in c.label.lower() or needle in c.value.lower()]
    return ChoicePage(sorted(choices, key=lambda c: c.label.lower()))


def _label_id(ctx: Context, wanted: Any, *, create: bool) -> tuple[str | None, str]:
    """The id of the label named or given as ``wanted`` (None when it is missing and may be
    created), and the name to create it under."""
    text = str(wanted or "").strip()
    if not text:
        raise IntegrationError(gettext("Choose a label."), permanent=True)
    labels = ctx.client().get("labels").get("labels") or []
    for label in labels:
        if text == label.get("id") or text.lower() == str(label.get("name", "")).lower():
            return label["id"], text
    if create:
        return None, text
    raise IntegrationError(
        gettext("This Gmail account has no label “%(label)s”. Pick one from the list.")
        % {"label": text},
        permanent=True,
    )


def _modify_request(message_id: Any, add: list[str], remove: list[str]) -> dict[str, Any]:
    message = str(message_id or "").strip()
    if not message:
        raise IntegrationError(gettext("Choose the email to change."), permanent=True)
    body: dict[str, Any] = {}
    if add:
        body["addLabelIds"] = add
    if remove:
        body["removeLabelIds"] = remove
    path = f"messages/{quote(message, safe='')}/modify"
    return {"method": "POST", "url": _url(path), "path": path, "body": body}


def _url(path: str) -> str:
    return f"{settings.GMAIL_API_URL.rstrip('/')}/users/me/{path}"


def _modify(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    answer = ctx.client().post(request["path"], request["body"])
    return {
        "id": answer.get("id", ""),
        "thread_id": answer.get("threadId", ""),
        "labels": list(answer.get("labelIds") or []),
    }


def _plan(ctx: Context, *, adding: bool) -> tuple[dict[str, Any], str | None]:
    """The modify request for add_label / remove_label, and the name of a label to create
    first (add_label with create_missing, when the account has no such label)."""
    config = ctx.config
    create = adding and config.get("create_missing", True) not in (False, "false", "no", "0")
    label_id, name = _label_id(ctx, config.get("label"), create=create)
    target = label_id or "(the new label)"
    add, remove = ([target], []) if adding else ([], [target])
    return _modify_request(config.get("message_id"), add, remove), (None if label_id else name)


def add_label(ctx: Context) -> dict[str, Any]:
    request, create = _plan(ctx, adding=True)
    if create:
        made = ctx.client().post("labels", _new_label(create))
        request["body"]["addLabelIds"] = [made["id"]]
    return _modify(ctx, request)


def _new_label(name: str) -> dict[str, Any]:
    return {"name": name, "labelListVisibility": "labelShow", "messageListVisibility": "show"}


def preview_add_label(ctx: Context) -> dict[str, Any]:
    """Reads the account's labels (never writes); a missing label shows its creation first."""
    request, create = _plan(ctx, adding=True)
    if not create:
        return request
    creating = {
        "method": "POST",
        "url": _url("labels"),
        "path": "labels",
        "body": _new_label(create),
    }
    return {**request, "requests": [creating, request]}


def remove_label(ctx: Context) -> dict[str, Any]:
    return _modify(ctx, _plan(ctx, adding=False)[0])


def preview_remove_label(ctx: Context) -> dict[str, Any]:
    return _plan(ctx, adding=False)[0]


def _fixed(remove: str):
    def request(ctx: Context) -> dict[str, Any]:
        return _modify_request(ctx.config.get("message_id"), [], [remove])

    def run(ctx: Context) -> dict[str, Any]:
        return _modify(ctx, request(ctx))

    return run, request


mark_as_read, preview_mark_as_read = _fixed("UNREAD")
archive_email, preview_archive_email = _fixed("INBOX")

MESSAGE_ID = Field(
    "message_id",
    _("Email"),
    required=True,
    help=_("The ID of the email, from the Gmail trigger or an earlier Gmail step."),
)
LABEL = Field(
    "label",
    _("Label"),
    kind="choice",
    required=True,
    dynamic_choices=label_choices,
    help=_("One of the account's labels, or a label's name."),
)
OUTPUTS = (
    OutputField("id", _("Message ID")),
    OutputField("thread_id", _("Thread ID")),
    OutputField("labels", _("Labels now on the email"), kind="list"),
)
SAMPLE = {"id": "18c2f0a1b2c3d4e5", "thread_id": "18c2f0a1b2c3d4e5", "labels": ["INBOX"]}


def _action(key, label, help_text, run, preview, fields=(MESSAGE_ID,)) -> Action:
    return Action(
        key=key,
        label=label,
        help=help_text,
        run=run,
        preview=preview,
        effect="write",
        fields=fields,
        outputs=OUTPUTS,
        sample=SAMPLE,
    )


ADD_LABEL = _action(
    "add_label",
    _("Add a label to an email"),
    _("Puts a label on the email; a label that does not exist yet is created."),
    add_label,
    preview_add_label,
    (
        MESSAGE_ID,
        LABEL,
        Field(
            "create_missing",
            _("Create the label if it is missing"),
            kind="bool",
            default=True,
        ),
    ),
)
REMOVE_LABEL = _action(
    "remove_label",
    _("Remove a label from an email"),
    _("Takes a label off the email."),
    remove_label,
    preview_remove_label,
    (MESSAGE_ID, LABEL),
)
MARK_AS_READ = _action(
    "mark_as_read",
    _("Mark an email as read"),
    _("Marks the email as read, as opening it in Gmail would."),
    mark_as_read,
    preview_mark_as_read,
)
ARCHIVE_EMAIL = _action(
    "archive_email",
    _("Archive an email"),
    _("Takes the email out of the inbox; it stays under All Mail and its labels."),
    archive_email,
    preview_archive_email,
)
