"""Finding new mail for the Gmail triggers: users.history.list from the stored historyId,
each added message fetched once, the member's search re-checked by Gmail itself, and a
bounded messages.list resync when Gmail has forgotten that historyId (404).

The cursor is ``{"history_id", "since"}``: the history record to continue after, and the
time (ms) of the last poll that caught up, which bounds a resync (``after:``). While a resync
has more than one poll's worth of mail, the cursor also holds ``resync_from`` (the historyId
read when the resync began, where history continues once it is done).

Why the re-check is exact: Gmail's search language cannot be evaluated outside Gmail (word
stemming, categories, importance), so each candidate is checked by asking Gmail for
``(<query>) {rfc822msgid:<a> rfc822msgid:<b> …}`` — the member's own query, restricted by
the braces (Gmail's OR) to the candidates' Message-ID headers — and keeping the candidates
whose ids come back. A message without a Message-ID is checked with its own second
(``after:``/``before:`` around its internalDate) instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from integrations.base import PollResult
from integrations.gmail import mime

# Never fire: mail the mailbox's owner is writing, has sent, or has scheduled to send.
NOT_INCOMING = {"DRAFT", "SENT", "SCHEDULED", "SPAM", "TRASH"}
# Message-IDs per re-check search (the query string stays well under URL limits).
RECHECK_BATCH = 20
# A resync looks at no more than this many messages since the last poll.
RESYNC_MOST = 500
HISTORY_PAGE = 500

Wanted = Callable[[dict[str, Any]], list[str]]


class StaleHistory(Exception):
    """Gmail answered 404 for the stored startHistoryId."""


def now_ms() -> int:
    return int(time.time() * 1000)


def seed(client) -> PollResult:
    """The cursor for "now": the mailbox's current historyId."""
    profile = client.profile()
    return PollResult([], {"history_id": str(profile["historyId"]), "since": now_ms()})


def incoming(message: dict[str, Any]) -> bool:
    return not (NOT_INCOMING & set(message.get("labelIds") or []))


def message_id_header(message: dict[str, Any]) -> str:
    headers = mime.header_map(message.get("payload") or {})
    return headers.get("message-id", "").strip().strip("<>").strip()


def matching(client, query: str, messages: list[dict[str, Any]]) -> set[str]:
    """The ids of ``messages`` that Gmail's search for ``query`` finds (see module doc)."""
    if not query.strip():
        return {m["id"] for m in messages}
    found: set[str] = set()
    with_header = [m for m in messages if message_id_header(m)]
    for start in range(0, len(with_header), RECHECK_BATCH):
        batch = with_header[start : start + RECHECK_BATCH]
        ids = " ".join(f"rfc822msgid:{message_id_header(m)}" for m in batch)
        found |= _listed(client, f"({query}) {{{ids}}}", len(batch) * 2)
    for message in (m for m in messages if not message_id_header(m)):
        second = int(message.get("internalDate") or 0) // 1000
        found |= _listed(client, f"({query}) after:{second - 1} before:{second + 1}", 500)
    return found & {m["id"] for m in messages}


def _listed(client, query: str, most: int, label: str | None = None) -> set[str]:
    return {ref["id"] for ref in list_ids(client, query, most, label)}


def list_ids(client, query: str, most: int, label: str | None = None) -> list[dict[str, Any]]:
    """messages.list, newest first, every page up to ``most`` ids."""
    refs: list[dict[str, Any]] = []
    token = None
    while len(refs) < most:
        params: dict[str, Any] = {"maxResults": min(500, most - len(refs))}
        if query.strip():
            params["q"] = query
        if label:
            params["labelIds"] = [label]
        if token:
            params["pageToken"] = token
        page = client.get("messages", **params)
        refs.extend(page.get("messages") or [])
        token = page.get("nextPageToken")
        if not token:
            break
    return refs[:most]


def newest(client, query: str, label: str | None, limit: int, mailbox: str, output) -> PollResult:
    """Test trigger: the newest few incoming messages the search finds, newest first."""
    items = []
    for ref in list_ids(client, query, limit * 4, label):
        message = client.message(ref["id"], "full")
        if incoming(message):
            items.append(output(message, mailbox))
        if len(items) >= limit:
            break
    return PollResult(items)


def read_history(client, cursor: dict, wanted: Wanted, history_types: list[str], label, limit,
                 seen: frozenset[str]) -> tuple[list[str], dict, bool]:  # fmt: skip
    """The candidate message ids after the cursor, oldest first, whole history records at a
    time up to ``limit`` candidates; the cursor to continue from; whether records are left.
    Raises StaleHistory when Gmail no longer has that historyId."""
    start = str(cursor["history_id"])
    candidates: list[str] = []
    token = None
    mailbox_now = None
    last = start
    while True:
        params: dict[str, Any] = {
            "startHistoryId": start,
            "historyTypes": history_types,
            "maxResults": HISTORY_PAGE,
        }
        if label:
            params["labelId"] = label
        if token:
            params["pageToken"] = token
        page = client.history(**params)
        if page is None:
            raise StaleHistory(start)
        mailbox_now = mailbox_now or page.get("historyId")
        for record in page.get("history") or []:
            ids = [
                i for i in dict.fromkeys(wanted(record)) if i not in seen and i not in candidates
            ]
            if candidates and len(candidates) + len(ids) > limit:
                return candidates, {**cursor, "history_id": last}, True
            candidates += ids
            last = str(record["id"])
        token = page.get("nextPageToken")
        if not token:
            break
    caught_up = max(int(last), int(mailbox_now or last))
    return candidates, {"history_id": str(caught_up), "since": now_ms()}, False


def resync(client, cursor: dict, query: str, label, limit: int, seen: frozenset[str]):
    """Gmail forgot the historyId: list what the search finds since the last poll (at most
    RESYNC_MOST), skip what already fired, and take the oldest ``limit``. Returns (candidate
    ids, cursor, more)."""
    resume = cursor.get("resync_from") or str(client.profile()["historyId"])
    since_s = int(cursor.get("since") or now_ms()) // 1000
    search = f"({query}) after:{since_s - 1}" if query.strip() else f"after:{since_s - 1}"
    refs = list_ids(client, search, RESYNC_MOST, label)
    fresh = [r["id"] for r in reversed(refs) if r["id"] not in seen]
    taken = fresh[:limit]
    if len(fresh) > limit:
        return taken, {**cursor, "resync_from": resume}, True
    return taken, {"history_id": resume, "since": now_ms()}, False
