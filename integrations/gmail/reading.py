"""Gmail actions that read mail: one email in full, and a search."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from integrations.base import Action, Context, Field, IntegrationError, OutputField
from integrations.gmail import mime

# Each found email costs one more call (5 quota units); a search stays a bounded read.
MOST_FOUND = 100
SUMMARY_HEADERS = ("From", "Subject", "Date")


def web_url(message_id: str, mailbox: str = "") -> str:
    account = f"?authuser={quote(mailbox)}" if "@" in mailbox else ""
    return f"https://mail.google.com/mail/{account}#all/{message_id}"


def get_email(ctx: Context) -> dict[str, Any]:
    message_id = str(ctx.config.get("message_id") or "").strip()
    if not message_id:
        raise IntegrationError(gettext("Choose the email to read."), permanent=True)
    message = ctx.client().message(message_id, "full")
    return email_output(message, getattr(ctx.connection, "label", "") or "", message_id)


def email_output(message: dict[str, Any], mailbox: str = "", message_id: str = "") -> dict:
    """A message fetched with format=full, as the get_email action outputs it (the Gmail
    triggers output the same)."""
    payload = message.get("payload") or {}
    headers = mime.header_map(payload)
    bodies = mime.read_payload(payload)
    text = bodies["body_text"] or mime.html_to_text(bodies["body_html"])
    return {
        "from": headers.get("from", ""),
        "to": headers.get("to", ""),
        "cc": headers.get("cc", ""),
        "subject": headers.get("subject", ""),
        "date": mime.iso_date(headers.get("date", ""), message.get("internalDate")),
        "body_text": bodies["body_text"],
        "body_html": bodies["body_html"],
        "body_clean": mime.clean_text(text),
        "attachments": bodies["attachments"],
        "labels": list(message.get("labelIds") or []),
        "thread_id": message.get("threadId", ""),
        "url": web_url(message.get("id", message_id), mailbox),
    }


def _limit(value: Any) -> int:
    try:
        limit = int(float(value)) if value not in (None, "") else 20
    except (TypeError, ValueError, OverflowError):
        raise IntegrationError(
            gettext("The limit must be a whole number from 1 to %(most)d.") % {"most": MOST_FOUND},
            permanent=True,
        ) from None
    return max(1, min(limit, MOST_FOUND))


def find_emails(ctx: Context) -> dict[str, Any]:
    client = ctx.client()
    query = str(ctx.config.get("query") or "").strip()
    limit = _limit(ctx.config.get("limit"))
    refs: list[dict[str, Any]] = []
    token: str | None = None
    while len(refs) < limit:
        page = client.list_messages(query, min(limit - len(refs), 500), token)
        refs.extend(page.get("messages") or [])
        token = page.get("nextPageToken")
        if not token:
            break
    emails = []
    for ref in refs[:limit]:
        message = client.message(ref["id"], "metadata", SUMMARY_HEADERS)
        headers = mime.header_map(message.get("payload") or {})
        emails.append(
            {
                "id": message.get("id", ref["id"]),
                "thread_id": message.get("threadId", ref.get("threadId", "")),
                "from": headers.get("from", ""),
                "subject": headers.get("subject", ""),
                "date": mime.iso_date(headers.get("date", ""), message.get("internalDate")),
                "snippet": message.get("snippet", ""),
            }
        )
    return {"emails": emails, "count": len(emails)}


MESSAGE_ID = Field(
    "message_id",
    _("Email"),
    required=True,
    help=_("The ID of the email, usually from the trigger or an earlier step."),
)

GET_EMAIL = Action(
    key="get_email",
    label=_("Get an email"),
    run=get_email,
    effect="read",
    help=_("Reads one email: its headers, its bodies, and the new text without quoted replies."),
    fields=(MESSAGE_ID,),
    outputs=(
        OutputField("from", _("From")),
        OutputField("to", _("To")),
        OutputField("cc", _("Cc")),
        OutputField("subject", _("Subject")),
        OutputField("date", _("Date"), kind="date"),
        OutputField("body_text", _("Body (plain text)"), kind="long_text"),
        OutputField("body_html", _("Body (HTML)"), kind="long_text"),
        OutputField("body_clean", _("New text only"), kind="long_text"),
        OutputField("attachments", _("Attachments"), kind="list"),
        OutputField("labels", _("Labels"), kind="list"),
        OutputField("thread_id", _("Thread ID")),
        OutputField("url", _("Link to the email")),
    ),
    sample={
        "from": "김민지 <minji.kim@acme.test>",
        "to": "ops@acme.test",
        "cc": "",
        "subject": "다음 주 납품 일정 확인 부탁드립니다",
        "date": "2026-12-01T09:12:00+09:00",
        "body_text": "안녕하세요,\n\n금요일까지 납품 가능할까요?\n\n김민지\n\n"
        "2026년 11월 30일 (월) 오후 3:00, ops@acme.test님이 작성:\n> 일정 공유드립니다.",
        "body_html": "<p>안녕하세요,</p><p>금요일까지 납품 가능할까요?</p>",
        "body_clean": "안녕하세요,\n\n금요일까지 납품 가능할까요?\n\n김민지",
        "attachments": [{"name": "견적서.pdf", "type": "application/pdf", "size": 48213}],
        "labels": ["INBOX", "UNREAD", "IMPORTANT"],
        "thread_id": "18c1f2a3b4c5d6e7",
        "url": "https://mail.google.com/mail/?authuser=ops%40acme.test#all/18c1f2a3b4c5d6e7",
    },
)

FIND_EMAILS = Action(
    key="find_emails",
    label=_("Find emails"),
    run=find_emails,
    effect="read",
    help=_("Searches the mailbox the way Gmail's search box does, newest first."),
    fields=(
        Field(
            "query",
            _("Search"),
            required=True,
            help=_("Gmail search words, e.g. from:orders@acme.test is:unread newer_than:2d"),
        ),
        Field(
            "limit",
            _("At most"),
            kind="number",
            default=20,
            help=_("How many emails to return, up to 100."),
        ),
    ),
    outputs=(
        OutputField("emails", _("Emails"), kind="list"),
        OutputField("count", _("Count"), kind="number"),
    ),
    sample={
        "emails": [
            {
                "id": "18c1f2a3b4c5d6e7",
                "thread_id": "18c1f2a3b4c5d6e7",
                "from": "김민지 <minji.kim@acme.test>",
                "subject": "다음 주 납품 일정 확인 부탁드립니다",
                "date": "2026-12-01T09:12:00+09:00",
                "snippet": "안녕하세요, 금요일까지 납품 가능할까요?",
            }
        ],
        "count": 1,
    },
)
