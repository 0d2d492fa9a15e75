"""Notion page actions: read a page's content, append to it, archive it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from integrations.base import Action, Context, Field, IntegrationError, OutputField
from integrations.notion import appending, content, writing
from integrations.notion.calls import call, page_id

PAGE_FIELD = Field(
    "page",
    _("Page"),
    required=True,
    help=_(
        "A Notion page link (in Notion: ⋯ → Copy link) or its id. The page must be shared "
        "with Toolstack (⋯ → Connections)."
    ),
)


def page_title(page: dict[str, Any]) -> str:
    for prop in (page.get("properties") or {}).values():
        if prop.get("type") == "title":
            return content.plain(prop.get("title") or [])
    return ""


def get_page_content(ctx: Context) -> dict[str, Any]:
    pid = page_id(ctx.config.get("page"))
    page = call(ctx, ctx.client().pages.retrieve, page_id=pid)
    found = content.walk(ctx, pid)
    text, markdown = content.render(found.lines)
    return {
        "text": text,
        "markdown": markdown,
        "title": page_title(page),
        "url": page.get("url") or "",
        "truncated": found.truncated,
    }


GET_PAGE_CONTENT = Action(
    key="get_page_content",
    label=_("Get a page's content"),
    help=_(
        "Reads a page as clean text (for an AI step) and as markdown: paragraphs, headings, "
        "lists, to-dos, quotes, code and dividers, nested blocks indented. Reads at most "
        "1,000 blocks and 5 levels of nesting; “Cut short” says when the page had more."
    ),
    run=get_page_content,
    effect="read",
    fields=(PAGE_FIELD,),
    outputs=(
        OutputField("text", _("Text"), kind="long_text"),
        OutputField("markdown", _("Markdown"), kind="long_text"),
        OutputField("title", _("Title")),
        OutputField("url", _("Page link")),
        OutputField("truncated", _("Cut short"), kind="bool"),
    ),
    sample={
        "text": "Weekly sync\n- Ship the billing page\n[ ] Ada: write the release note",
        "markdown": "# Weekly sync\n\n- Ship the billing page\n- [ ] Ada: write the release note",
        "title": "Meeting notes 3 June",
        "url": "https://www.notion.so/Meeting-notes-3-June-1f0d872b594c80c1a3e80037abcdef01",
        "truncated": False,
    },
)


def _blocks_to_add(ctx: Context) -> tuple[str, list[dict[str, Any]]]:
    pid = page_id(ctx.config.get("page"))
    made = writing.blocks(str(ctx.config.get("content") or ""))
    if not made:
        raise IntegrationError(_g("There is nothing to add: the content is empty."), permanent=True)
    return pid, made


def _request(method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """A request as notion-client sends it, the bearer token left out."""
    return {
        "method": method,
        "url": settings.NOTION_API_URL.rstrip("/") + path,
        "headers": {"Notion-Version": settings.NOTION_VERSION},
        "body": body,
    }


def preview_append_to_page(ctx: Context) -> dict[str, Any]:
    """The first request, and in ``requests`` every one it sends in order (100 blocks each)."""
    pid, made = _blocks_to_add(ctx)
    path = f"/v1/blocks/{pid}/children"
    requests = [_request("PATCH", path, {"children": b}) for b in writing.batches(made)]
    return {**requests[0], "requests": requests}


def append_to_page(ctx: Context) -> dict[str, Any]:
    pid, made = _blocks_to_add(ctx)
    client = ctx.client()
    # Sent in order, one request per 100 blocks; a retry after a failure part-way sends only
    # the batches the page does not end with yet (see ``appending``).
    for batch in appending.batches_to_send(ctx, pid, made):
        call(ctx, client.blocks.children.append, block_id=pid, children=batch)
    return {"id": pid, "blocks_added": len(made)}


APPEND_TO_PAGE = Action(
    key="append_to_page",
    label=_("Add content to a page"),
    help=_(
        "Adds text to the end of a page. Simple markdown becomes Notion blocks: # headings, "
        "- bullets, - [ ] to-dos, 1. numbered items and > quotes; other lines become "
        "paragraphs. Long text is split to fit Notion's limits."
    ),
    run=append_to_page,
    preview=preview_append_to_page,
    effect="write",
    fields=(
        PAGE_FIELD,
        Field("content", _("Content"), kind="long_text", required=True),
    ),
    outputs=(
        OutputField("id", _("Page ID")),
        OutputField("blocks_added", _("Blocks added"), kind="number"),
    ),
    sample={"id": "1f0d872b-594c-80c1-a3e8-0037abcdef01", "blocks_added": 3},
)


def archive_page(ctx: Context) -> dict[str, Any]:
    pid = page_id(ctx.config.get("page"))
    answer = call(ctx, ctx.client().pages.update, page_id=pid, in_trash=True)
    return {
        "id": answer.get("id") or pid,
        "archived": bool(answer.get("in_trash", answer.get("archived", True))),
    }


def preview_archive_page(ctx: Context) -> dict[str, Any]:
    pid = page_id(ctx.config.get("page"))
    return _request("PATCH", f"/v1/pages/{pid}", {"in_trash": True})


ARCHIVE_PAGE = Action(
    key="archive_page",
    label=_("Archive a page"),
    help=_("Moves a page to Notion's trash, where it can be restored for 30 days."),
    run=archive_page,
    preview=preview_archive_page,
    effect="destructive",
    fields=(PAGE_FIELD,),
    outputs=(
        OutputField("id", _("Page ID")),
        OutputField("archived", _("Archived"), kind="bool"),
    ),
    sample={"id": "1f0d872b-594c-80c1-a3e8-0037abcdef01", "archived": True},
)
