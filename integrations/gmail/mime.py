"""Messages in and out of Gmail: RFC 5322 messages built with the standard library's ``email``
package, and the ``format=full`` payload tree read back into headers, bodies and attachments."""

from __future__ import annotations

import base64
import binascii
import html
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

RE_PREFIX = re.compile(r"^\s*(re|aw|sv|답장|회신)\s*:", re.IGNORECASE)


def addresses(value: Any) -> str:
    """A recipients value as one header: a comma-separated string or a list of addresses
    (a mapped list from an earlier step), blanks dropped."""
    if value is None:
        return ""
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    return ", ".join(s for item in items if (s := str(item).strip()))


def build_message(
    *,
    to: str = "",
    cc: str = "",
    bcc: str = "",
    subject: str = "",
    body: str = "",
    html_body: str = "",
    reply_to: str = "",
    headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    """A UTF-8 message: headers RFC 2047-encoded where they are not ASCII, a text/plain body,
    and multipart/alternative with a text/html part when ``html_body`` is given."""
    mail = EmailMessage()
    for name, value in (("To", to), ("Cc", cc), ("Bcc", bcc), ("Reply-To", reply_to)):
        if value:
            mail[name] = one_line(value)
    mail["Subject"] = one_line(subject)
    for name, value in (headers or {}).items():
        if value:
            mail[name] = one_line(value)
    mail.set_content(body or "", charset="utf-8", cte=_cte(body or ""))
    if html_body:
        mail.add_alternative(html_body, subtype="html", charset="utf-8", cte=_cte(html_body))
    return mail


def one_line(value: str) -> str:
    """A header value from an earlier step (an LLM's subject line) may hold line breaks, which
    a header cannot."""
    return " ".join(str(value).split())


def _cte(text: str) -> str | None:
    # 8bit would be shorter, but base64 survives any 7-bit hop on the way.
    return None if text.isascii() else "base64"


def raw(mail: EmailMessage) -> str:
    """The base64url form users.messages.send and users.drafts.create take as ``raw``."""
    return base64.urlsafe_b64encode(mail.as_bytes(policy=SMTP)).decode("ascii")


def reply_subject(subject: str) -> str:
    return subject if RE_PREFIX.match(subject or "") else f"Re: {subject or ''}".rstrip()


def header_map(payload: Mapping[str, Any]) -> dict[str, str]:
    """Header names lower-cased; Gmail already decodes RFC 2047 words in ``headers``."""
    out: dict[str, str] = {}
    for header in payload.get("headers") or []:
        out.setdefault(str(header.get("name", "")).lower(), str(header.get("value", "")))
    return out


def iso_date(value: str, internal_ms: str | int | None = None) -> str:
    """The Date header as ISO 8601 with its offset; Gmail's receive time when it is unreadable."""
    try:
        when = parsedate_to_datetime(value)
        if when.tzinfo is not None:
            return when.isoformat()
    except (TypeError, ValueError, IndexError):
        pass
    if internal_ms:
        return datetime.fromtimestamp(int(internal_ms) / 1000, UTC).isoformat()
    return ""


def split_addresses(value: str) -> list[str]:
    return [addr for _, addr in getaddresses([value or ""]) if addr]


def _decode(data: str, charset: str) -> str:
    padded = data + "=" * (-len(data) % 4)
    try:
        raw_bytes = base64.urlsafe_b64decode(padded)
    except (binascii.Error, ValueError):
        return ""
    try:
        return raw_bytes.decode(charset or "utf-8", errors="replace")
    except LookupError:  # an unknown charset name: most mail that lies about it is UTF-8
        return raw_bytes.decode("utf-8", errors="replace")


def _charset(part_headers: Mapping[str, str]) -> str:
    match = re.search(r'charset\s*=\s*"?([^";\s]+)', part_headers.get("content-type", ""), re.I)
    return match.group(1) if match else "utf-8"


def walk(part: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    yield part
    for child in part.get("parts") or []:
        yield from walk(child)


def read_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The first text/plain and text/html bodies that are not attachments, and every
    attachment as name, type and size (Gmail sends attachment bytes only by separate call)."""
    text: str | None = None
    markup: str | None = None
    attachments: list[dict[str, Any]] = []
    for part in walk(payload):
        mime = str(part.get("mimeType", "")).lower()
        if mime.startswith("multipart/"):
            continue
        headers = header_map(part)
        body = part.get("body") or {}
        disposition = headers.get("content-disposition", "").lower()
        if part.get("filename") or body.get("attachmentId") or disposition.startswith("attach"):
            attachments.append(
                {
                    "name": part.get("filename") or "",
                    "type": mime,
                    "size": int(body.get("size") or 0),
                }
            )
            continue
        data = body.get("data")
        if not data:
            continue
        if mime == "text/plain" and text is None:
            text = _decode(data, _charset(headers))
        elif mime == "text/html" and markup is None:
            markup = _decode(data, _charset(headers))
    return {"body_text": text or "", "body_html": markup or "", "attachments": attachments}


def html_to_text(markup: str) -> str:
    """Readable text of an HTML-only email, without the quoted history mail apps put in a
    ``gmail_quote`` block or a ``<blockquote>``."""
    markup = re.split(r'(?i)<div[^>]*class="[^"]*gmail_quote', markup)[0]
    markup = re.sub(r"(?is)<(script|style|head|blockquote)\b.*?</\1>", "", markup)
    markup = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>|</tr>|</h\d>", "\n", markup)
    text = html.unescape(re.sub(r"<[^>]+>", "", markup))
    return "\n".join(line.strip() for line in text.splitlines())


# Where quoted history starts: "On … wrote:" (also folded onto two lines), Gmail's Korean
# "…님이 작성:", Outlook's "-----Original Message-----" and its "From:/Sent:" block.
QUOTE_HEADERS = (
    re.compile(r"^on\b.{0,300}\bwrote:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^.{0,300}님이 작성(했습니다)?:\s*$", re.DOTALL),
    re.compile(r"^-{2,}\s*(original message|원본 메시지|forwarded message)\s*-{2,}", re.I),
    re.compile(r"^_{10,}\s*$"),
)
OUTLOOK_BLOCK = re.compile(r"^(from|보낸 사람)\s*:", re.IGNORECASE)
# Only with a Sent/Date line next, so "From: Seoul / To: Busan" in a message is kept.
OUTLOOK_NEXT = re.compile(r"^(sent|date|보낸 날짜|날짜)\s*:", re.IGNORECASE)
SIGNATURES = (
    re.compile(r"^--\s*$"),
    re.compile(r"^(sent from my|get outlook for|나의 (iphone|galaxy)에서 보냄)", re.IGNORECASE),
)


def clean_text(text: str) -> str:
    """The new text of a message only: quoted history and the signature cut off, so an LLM
    step reads what the sender wrote now."""
    lines = (text or "").replace("\r\n", "\n").split("\n")
    kept: list[str] = []
    for i, line in enumerate(lines):
        stripped = line.strip()
        joined = " ".join(s.strip() for s in lines[i : i + 2])
        if stripped.startswith(">"):
            break
        following = lines[i + 1].strip() if i + 1 < len(lines) else ""
        # Mail clients fold a long "On … wrote:" line in two.
        if any(
            p.match(stripped) or (p.match(joined) and not p.match(following))
            for p in QUOTE_HEADERS[:2]
        ):
            break
        if any(p.match(stripped) for p in QUOTE_HEADERS[2:]):
            break
        if OUTLOOK_BLOCK.match(stripped) and OUTLOOK_NEXT.match(following):
            break
        if any(p.match(line.rstrip("\n")) for p in SIGNATURES):
            break
        kept.append(line.rstrip())
    return "\n".join(kept).strip()
