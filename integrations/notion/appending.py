"""Appending in batches without doubling content when a step is retried part-way.

Content over 100 blocks goes out in several requests, and each request is all or nothing. When
one fails after earlier ones went through (a 429, a timeout), the engine runs the step again.
Before sending, the retry reads the end of the page: if the page ends with the first whole
batches of this content — the same blocks, in order, added in the last ``RECENT`` — those
batches are not sent again. Only whole batches can have gone through, so a page that merely
ends with similar text (fewer than 100 blocks) never matches; content of one batch is sent as
is. Pages longer than ``MAX_READ`` blocks are not read to their end, and the content is sent
whole."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from integrations.base import Context
from integrations.notion import writing
from integrations.notion.calls import call
from integrations.notion.content import plain

RECENT = timedelta(hours=6)
MAX_READ = 2000


def _signature(block: dict[str, Any]) -> tuple:
    kind = block.get("type") or ""
    body = block.get(kind) or {}
    return kind, plain(body.get("rich_text") or []), bool(body.get("checked"))


def _tail(ctx: Context, pid: str, count: int) -> list[dict[str, Any]] | None:
    """The page's last ``count`` top-level blocks, or None when the page is too long."""
    client, seen, cursor, read = ctx.client(), [], None, 0
    while True:
        params: dict[str, Any] = {"block_id": pid, "page_size": 100}
        if cursor:
            params["start_cursor"] = cursor
        answer = call(ctx, client.blocks.children.list, **params)
        results = list(answer.get("results") or [])
        read += len(results)
        seen = (seen + results)[-count:]
        cursor = answer.get("next_cursor") if answer.get("has_more") else None
        if not cursor:
            return seen
        if read >= MAX_READ:
            return None


def _recent(block: dict[str, Any]) -> bool:
    stamp = block.get("created_time") or ""
    try:
        made = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return False
    return datetime.now(UTC) - made <= RECENT


def batches_to_send(ctx: Context, pid: str, made: list[dict[str, Any]]) -> list[list[dict]]:
    """The batches of ``made`` still to send to page ``pid``."""
    batches = writing.batches(made)
    if len(batches) < 2:
        return batches
    tail = _tail(ctx, pid, len(made) - len(batches[-1]))
    if not tail:
        return batches
    wanted = [_signature(b) for b in made]
    have = [_signature(b) for b in tail]
    for done in range(len(batches) - 1, 0, -1):
        size = done * writing.MAX_BLOCKS
        if len(have) >= size and have[-size:] == wanted[:size] and _recent(tail[-1]):
            return batches[done:]
    return batches
