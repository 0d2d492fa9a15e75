"""A Notion page's blocks as clean plain text (for LLM steps) and simple markdown.

Reading is bounded: at most ``MAX_BLOCKS`` blocks and ``MAX_DEPTH`` levels of nesting, 100
blocks per request; what lies beyond is left out and the result says it was cut short."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from integrations.base import Context
from integrations.notion.calls import call

MAX_BLOCKS = 1000
MAX_DEPTH = 5
PAGE_SIZE = 100
LIST_KINDS = ("bulleted_list_item", "numbered_list_item", "to_do")
# Blocks whose children are another page or database, not this page's content.
OWN_PAGES = ("child_page", "child_database")


@dataclass
class Line:
    depth: int
    kind: str
    text: str
    markdown: str


@dataclass
class Walk:
    lines: list[Line] = field(default_factory=list)
    blocks: int = 0
    truncated: bool = False


def plain(rich: list[dict[str, Any]]) -> str:
    return "".join(r.get("plain_text") or (r.get("text") or {}).get("content", "") for r in rich)


def marked(rich: list[dict[str, Any]]) -> str:
    out = []
    for item in rich:
        text = item.get("plain_text") or (item.get("text") or {}).get("content", "")
        notes = item.get("annotations") or {}
        if text.strip():
            if notes.get("code"):
                text = f"`{text}`"
            if notes.get("bold"):
                text = f"**{text}**"
            if notes.get("italic"):
                text = f"*{text}*"
            if notes.get("strikethrough"):
                text = f"~~{text}~~"
            if item.get("href"):
                text = f"[{text}]({item['href']})"
        out.append(text)
    return "".join(out)


def line(block: dict[str, Any], depth: int, number: int) -> Line | None:
    kind = block.get("type") or ""
    body = block.get(kind) or {}
    rich = body.get("rich_text") or []
    text, md = plain(rich), marked(rich)
    if kind.startswith("heading_") and kind[-1] in "123":
        return Line(depth, kind, text, "#" * int(kind[-1]) + " " + md)
    if kind == "bulleted_list_item":
        return Line(depth, kind, f"- {text}", f"- {md}")
    if kind == "numbered_list_item":
        return Line(depth, kind, f"{number}. {text}", f"{number}. {md}")
    if kind == "to_do":
        box = "[x]" if body.get("checked") else "[ ]"
        return Line(depth, kind, f"{box} {text}", f"- {box} {md}")
    if kind == "quote":
        return Line(depth, kind, text, "> " + md.replace("\n", "\n> "))
    if kind == "code":
        language = body.get("language") or ""
        language = "" if language == "plain text" else language
        return Line(depth, kind, text, f"```{language}\n{text}\n```")
    if kind == "divider":
        return Line(depth, kind, "", "---")
    if kind in OWN_PAGES:
        return Line(depth, kind, body.get("title") or "", body.get("title") or "")
    if kind == "paragraph" or rich:  # toggles, callouts and the like: their words
        return Line(depth, kind, text, md)
    return None


def walk(ctx: Context, parent: str) -> Walk:
    """Every block under ``parent`` depth first, in page order, within the caps."""
    client, found = ctx.client(), Walk()
    _children(ctx, client, parent, 0, 0, found)
    return found


def _children(ctx: Context, client: Any, parent: str, depth: int, indent: int, found: Walk) -> None:
    """``depth`` counts nesting for the cap; ``indent`` only blocks that show a line, so the
    contents of columns and synced blocks line up with the text around them."""
    cursor, number = None, 0
    while True:
        params: dict[str, Any] = {"block_id": parent, "page_size": PAGE_SIZE}
        if cursor:
            params["start_cursor"] = cursor
        answer = call(ctx, client.blocks.children.list, **params)
        for block in answer.get("results") or []:
            if found.blocks >= MAX_BLOCKS:
                found.truncated = True
                return
            found.blocks += 1
            number = number + 1 if block.get("type") == "numbered_list_item" else 0
            made = line(block, indent, number)
            if made is not None:
                found.lines.append(made)
            if block.get("has_children") and block.get("type") not in OWN_PAGES:
                if depth + 1 >= MAX_DEPTH:
                    found.truncated = True
                else:
                    inner = indent + 1 if made is not None else indent
                    _children(ctx, client, block["id"], depth + 1, inner, found)
                    if found.truncated and found.blocks >= MAX_BLOCKS:
                        return
        cursor = answer.get("next_cursor") if answer.get("has_more") else None
        if not cursor:
            return


def render(lines: list[Line]) -> tuple[str, str]:
    """(plain text, markdown). Nested lines are indented two spaces a level; list items sit
    on consecutive lines, other blocks are separated by a blank line in markdown."""
    text_parts: list[str] = []
    md_parts: list[str] = []
    previous: Line | None = None
    for item in lines:
        pad = "  " * item.depth
        text_parts.append("\n".join(pad + part for part in item.text.split("\n")))
        md = "\n".join(pad + part for part in item.markdown.split("\n"))
        if previous is not None:
            tight = item.depth > 0 or (item.kind in LIST_KINDS and previous.kind in LIST_KINDS)
            md_parts.append("\n" if tight else "\n\n")
        md_parts.append(md)
        previous = item
    return "\n".join(text_parts).strip("\n"), "".join(md_parts).strip("\n")
