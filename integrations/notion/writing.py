"""Plain text or simple markdown as Notion blocks, within Notion's limits.

Understood: ``#``/``##``/``###`` headings, ``- `` or ``* `` bullets, ``- [ ] ``/``- [x] ``
to-dos, ``1. `` numbered items, ``> `` quotes; other lines are paragraphs (consecutive lines
form one, a blank line starts the next). Inline marks are kept as typed.

Notion takes at most 2,000 characters per rich-text object (counted as JavaScript does, in
UTF-16 units), 100 of them per block, and 100 blocks per request."""

from __future__ import annotations

import re
from typing import Any

MAX_TEXT = 2000
MAX_RICH = 100
MAX_BLOCKS = 100

_PATTERNS = (
    (re.compile(r"^###\s+(.*)$"), "heading_3"),
    (re.compile(r"^##\s+(.*)$"), "heading_2"),
    (re.compile(r"^#\s+(.*)$"), "heading_1"),
    (re.compile(r"^[-*]\s+\[[xX]\]\s*(.*)$"), "to_do_checked"),
    (re.compile(r"^[-*]\s+\[ \]\s*(.*)$"), "to_do"),
    (re.compile(r"^[-*]\s+(.*)$"), "bulleted_list_item"),
    (re.compile(r"^\d+[.)]\s+(.*)$"), "numbered_list_item"),
    (re.compile(r"^>\s?(.*)$"), "quote"),
)


def _units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def pieces(text: str, limit: int = MAX_TEXT) -> list[str]:
    """``text`` cut into pieces of at most ``limit`` UTF-16 units, at a space or line break
    near the end of each piece when there is one, so words stay whole."""
    out: list[str] = []
    start = 0
    while start < len(text):
        used, end, brk = 0, start, -1
        while end < len(text) and used + _units(text[end]) <= limit:
            used += _units(text[end])
            if text[end] in " \n" and end > start:
                brk = end
            end += 1
        if end < len(text) and brk > start + limit // 2:
            end = brk + 1
        out.append(text[start:end])
        start = end
    return out


def _block(kind: str, text: str) -> list[dict[str, Any]]:
    """One block, or several of the same kind when the text needs over 100 rich texts."""
    checked = kind == "to_do_checked"
    kind = "to_do" if checked else kind
    parts = pieces(text) or [""]
    made = []
    for start in range(0, len(parts), MAX_RICH):
        body: dict[str, Any] = {
            "rich_text": [
                {"type": "text", "text": {"content": p}} for p in parts[start : start + MAX_RICH]
            ]
        }
        if kind == "to_do":
            body["checked"] = checked
        made.append({"object": "block", "type": kind, kind: body})
    return made


def blocks(content: str) -> list[dict[str, Any]]:
    """The blocks for ``content``, in order."""
    out: list[dict[str, Any]] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            out.extend(_block("paragraph", "\n".join(paragraph)))
            paragraph.clear()

    for raw in str(content or "").replace("\r\n", "\n").split("\n"):
        stripped = raw.strip()
        if not stripped:
            flush()
            continue
        for pattern, kind in _PATTERNS:
            found = pattern.match(stripped)
            if found:
                flush()
                out.extend(_block(kind, found.group(1)))
                break
        else:
            paragraph.append(raw.rstrip())
    flush()
    return out


def batches(items: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [items[i : i + MAX_BLOCKS] for i in range(0, len(items), MAX_BLOCKS)]
