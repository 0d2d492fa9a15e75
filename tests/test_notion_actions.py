"""The Notion page actions through notion-client against the Notion fake: reading a page's
content (paged, nested, capped), appending to it within Notion's limits, archiving it; the
not-shared error in the words a member sees, and a 429 with Retry-After."""

from __future__ import annotations

import pytest

from integrations import registry
from integrations.base import Context, IntegrationError
from integrations.notion import content
from tests.fakes.notion import FakeNotion


@pytest.fixture
def fake_notion(settings):
    with FakeNotion() as fake:
        for key, value in fake.settings().items():
            setattr(settings, key, value)
        yield fake


@pytest.fixture
def conn(workspace, fake_notion):
    from hub.connections.models import Connection

    connection = Connection(workspace=workspace, integration="notion", label="Acme Notion")
    connection.set_tokens(fake_notion.issue_token(), None, None)
    connection.save()
    return connection


def run(conn, key, **config):
    app = registry.get("notion")
    ctx = Context(workspace_id=conn.workspace_id, config=config, connection=conn, integration=app)
    return app.action(key).run(ctx)


def fails(conn, key, **config) -> IntegrationError:
    with pytest.raises(IntegrationError) as caught:
        run(conn, key, **config)
    return caught.value


def text_block(kind, text, **extra):
    return {"type": kind, kind: {"rich_text": [{"text": {"content": text}}], **extra}}


NOT_SHARED = (
    "The Notion page isn't shared with Toolstack — open it in Notion, ⋯ → Connections, "
    "add Toolstack."
)


def link(page):
    return f"https://www.notion.so/acme/Meeting-notes-{page['id'].replace('-', '')}?pvs=4"


# -- get_page_content


def meeting_notes(fake):
    return fake.add_page(
        "",
        "Meeting notes",
        blocks=[
            text_block("heading_1", "Weekly sync"),
            text_block("paragraph", "We agreed on three things."),
            text_block(
                "bulleted_list_item",
                "Billing",
                children=[text_block("to_do", "Ada: release note", checked=False)],
            ),
            text_block("numbered_list_item", "First"),
            text_block("numbered_list_item", "Second"),
            text_block("to_do", "Book the room", checked=True),
            text_block("quote", "Ship it"),
            {"type": "divider", "divider": {}},
            text_block("code", "print(1)", language="python"),
        ],
    )


def test_get_page_content_from_a_pasted_link_as_text_and_markdown(conn, fake_notion):
    page = meeting_notes(fake_notion)
    out = run(conn, "get_page_content", page=link(page))
    assert out["title"] == "Meeting notes" and out["url"] == page["url"]
    assert out["truncated"] is False
    assert out["text"] == (
        "Weekly sync\nWe agreed on three things.\n- Billing\n  [ ] Ada: release note\n"
        "1. First\n2. Second\n[x] Book the room\nShip it\n\nprint(1)"
    )
    assert out["markdown"] == (
        "# Weekly sync\n\nWe agreed on three things.\n\n- Billing\n  - [ ] Ada: release note\n"
        "1. First\n2. Second\n- [x] Book the room\n\n> Ship it\n\n---\n\n```python\nprint(1)\n```"
    )


def test_get_page_content_pages_through_more_than_100_blocks_and_nested_children(conn, fake_notion):
    nested = text_block(
        "bulleted_list_item",
        "Parent",
        children=[text_block("paragraph", f"child {i}") for i in range(101)],
    )
    blocks = [text_block("paragraph", f"line {i}") for i in range(150)] + [nested]
    page = fake_notion.add_page("", "Long", blocks=blocks)
    out = run(conn, "get_page_content", page=page["id"])
    lines = out["text"].split("\n")
    assert lines[:2] == ["line 0", "line 1"] and lines[149] == "line 149"
    assert lines[150] == "- Parent" and lines[151] == "  child 0" and lines[-1] == "  child 100"
    assert len(lines) == 150 + 1 + 101 and out["truncated"] is False
    listed = fake_notion.calls("blocks.children.list")
    # Two pages of the page's own blocks, two of the bullet's children: 100 per request.
    assert len(listed) == 4
    assert all(int(c.query["page_size"][0]) == 100 for c in listed)
    assert sum(1 for c in listed if "start_cursor" in c.query) == 2


def test_get_page_content_stops_at_the_cap_and_says_so(conn, fake_notion, monkeypatch):
    monkeypatch.setattr(content, "MAX_BLOCKS", 120)
    page = fake_notion.add_page(
        "", "Huge", blocks=[text_block("paragraph", f"p{i}") for i in range(250)]
    )
    out = run(conn, "get_page_content", page=page["id"])
    assert out["truncated"] is True and len(out["text"].split("\n")) == 120
    assert len(fake_notion.calls("blocks.children.list")) == 2


def test_get_page_content_stops_at_the_depth_cap(conn, fake_notion):
    block = text_block("bulleted_list_item", "level 6")
    for level in range(5, 0, -1):
        block = text_block("bulleted_list_item", f"level {level}", children=[block])
    page = fake_notion.add_page("", "Deep", blocks=[block])
    out = run(conn, "get_page_content", page=page["id"])
    assert out["truncated"] is True
    assert out["text"].split("\n")[-1] == "        - level 5"


def test_get_page_content_of_a_page_not_shared_says_how_to_share_it(conn, fake_notion):
    page = fake_notion.add_page("", "Private", shared=False)
    error = fails(conn, "get_page_content", page=link(page))
    assert error.permanent and error.message == NOT_SHARED


def test_get_page_content_rate_limited_is_retried_after_the_wait(conn, fake_notion):
    page = meeting_notes(fake_notion)
    fake_notion.rate_limit("blocks.children.list", retry_after=7)
    error = fails(conn, "get_page_content", page=page["id"])
    assert error.retryable and error.retry_after == 7
    assert fake_notion.calls("blocks.children.list")[-1].status == 429


def test_get_page_content_of_something_that_is_not_a_link(conn, fake_notion):
    error = fails(conn, "get_page_content", page="meeting notes")
    assert error.permanent and "Copy link" in error.message
    assert fake_notion.calls() == []


# -- append_to_page


def test_append_markdown_becomes_headings_lists_and_to_dos(conn, fake_notion):
    page = fake_notion.add_page("", "Notes", blocks=[text_block("paragraph", "Existing")])
    markdown = (
        "# Decisions\n## Owners\n### Later\nWe ship on Friday.\nAll of us.\n\n"
        "- Billing page\n- [ ] Ada: release note\n- [x] Room booked\n> Quote"
    )
    out = run(conn, "append_to_page", page=link(page), content=markdown)
    assert out == {"id": page["id"], "blocks_added": 8}
    assert fake_notion.block_texts(page["id"]) == [
        ("paragraph", "Existing"),
        ("heading_1", "Decisions"),
        ("heading_2", "Owners"),
        ("heading_3", "Later"),
        ("paragraph", "We ship on Friday.\nAll of us."),
        ("bulleted_list_item", "Billing page"),
        ("to_do", "Ada: release note"),
        ("to_do", "Room booked"),
        ("quote", "Quote"),
    ]
    checked = [
        fake_notion.blocks[b]["to_do"]["checked"]
        for b in fake_notion.children[page["id"]]
        if fake_notion.blocks[b]["type"] == "to_do"
    ]
    assert checked == [False, True]


def test_append_splits_long_text_and_many_blocks_to_fit_notions_limits(conn, fake_notion):
    page = fake_notion.add_page("", "Log")
    long_paragraph = "word " * 1000  # 5,000 characters
    lines = "\n".join(f"- item {i}" for i in range(230))
    out = run(conn, "append_to_page", page=page["id"], content=f"{long_paragraph}\n\n{lines}")
    assert out["blocks_added"] == 231
    sent = fake_notion.calls("blocks.children.append")
    assert [len(c.body["children"]) for c in sent] == [100, 100, 31]
    assert all(c.status == 200 for c in sent)
    first = sent[0].body["children"][0]["paragraph"]["rich_text"]
    assert len(first) == 3 and all(len(r["text"]["content"]) <= 2000 for r in first)
    assert "".join(r["text"]["content"] for r in first) == long_paragraph.strip()
    texts = fake_notion.block_texts(page["id"])
    assert texts[0] == ("paragraph", long_paragraph.strip()) and texts[-1][1] == "item 229"


def test_append_to_a_page_not_shared_says_how_to_share_it(conn, fake_notion):
    page = fake_notion.add_page("", "Private", shared=False)
    error = fails(conn, "append_to_page", page=page["id"], content="Hello")
    assert error.permanent and error.message == NOT_SHARED


def test_append_rate_limited_is_retried_after_the_wait(conn, fake_notion):
    page = fake_notion.add_page("", "Notes")
    fake_notion.rate_limit("blocks.children.append", retry_after=3)
    error = fails(conn, "append_to_page", page=page["id"], content="Hello")
    assert error.retryable and error.retry_after == 3


def test_append_nothing_fails_without_calling_notion(conn, fake_notion):
    page = fake_notion.add_page("", "Notes")
    error = fails(conn, "append_to_page", page=page["id"], content=" \n ")
    assert error.permanent and fake_notion.calls("blocks.children.append") == []


def test_append_rejected_by_notion_passes_on_its_reason(conn, fake_notion):
    page = fake_notion.add_page("", "Notes")
    fake_notion.fail_next(
        "blocks.children.append",
        status=400,
        body={
            "object": "error",
            "status": 400,
            "code": "validation_error",
            "message": "body failed validation: body.children[0].paragraph should be defined.",
        },
    )
    error = fails(conn, "append_to_page", page=page["id"], content="Hello")
    assert error.permanent
    assert error.message == (
        "Notion did not accept the request: body failed validation: "
        "body.children[0].paragraph should be defined."
    )


# -- archive_page


def test_archive_page_moves_it_to_the_trash(conn, fake_notion):
    page = fake_notion.add_page("", "Old")
    out = run(conn, "archive_page", page=link(page))
    assert out == {"id": page["id"], "archived": True}
    assert fake_notion.pages[page["id"]]["in_trash"] is True
    [call] = fake_notion.calls("pages.update")
    assert call.body == {"in_trash": True}


def test_archive_page_not_shared_says_how_to_share_it(conn, fake_notion):
    page = fake_notion.add_page("", "Private", shared=False)
    error = fails(conn, "archive_page", page=page["id"])
    assert error.permanent and error.message == NOT_SHARED


def test_archive_page_rate_limited_and_unauthorized(conn, fake_notion):
    page = fake_notion.add_page("", "Old")
    fake_notion.rate_limit("pages.update", retry_after=2)
    error = fails(conn, "archive_page", page=page["id"])
    assert error.retryable and error.retry_after == 2
    fake_notion.revoke_token(conn.access_token)
    assert fails(conn, "archive_page", page=page["id"]).reauth


def test_the_not_shared_message_is_korean_for_a_korean_member(conn, fake_notion):
    from django.utils import translation

    page = fake_notion.add_page("", "Private", shared=False)
    with translation.override("ko"):
        error = fails(conn, "get_page_content", page=page["id"])
    assert error.message.startswith("Notion 페이지가 Toolstack과 공유되어 있지 않습니다.")


def test_columns_read_in_line_with_the_text_around_them(conn, fake_notion):
    column = {"type": "column", "column": {"children": [text_block("paragraph", "Left")]}}
    columns = {"type": "column_list", "column_list": {"children": [column]}}
    page = fake_notion.add_page("", "Cols", blocks=[text_block("paragraph", "Top"), columns])
    assert run(conn, "get_page_content", page=page["id"])["text"] == "Top\nLeft"


@pytest.mark.parametrize(
    "given",
    [
        "1f0d872b594c80c1a3e80037abcdef01",
        "1f0d872b-594c-80c1-a3e8-0037abcdef01",
        "https://www.notion.so/acme/Meeting-notes-1f0d872b594c80c1a3e80037abcdef01?pvs=4",
        "https://www.notion.so/1f0d872b594c80c1a3e80037abcdef01#2a0d872b594c80c1a3e80037abcdef02",
        "www.notion.so/Meeting-1f0d872b594c80c1a3e80037abcdef01/",
        "https://acme.notion.site/Notes-1f0d872b594c80c1a3e80037abcdef01",
    ],
)
def test_a_page_is_given_by_id_or_pasted_link(given):
    from integrations.notion.calls import page_id

    assert page_id(given) == "1f0d872b-594c-80c1-a3e8-0037abcdef01"


def test_restricted_resource_is_permanent_and_says_what_to_check(conn, fake_notion):
    page = fake_notion.add_page("", "Locked")
    fake_notion.fail_next("pages.update", status=403)
    error = fails(conn, "archive_page", page=page["id"])
    assert error.permanent and "⋯ → Connections" in error.message


# -- a recipe


def test_recipe_copies_meeting_notes_as_markdown_onto_another_page(workspace, conn, fake_notion):
    from hub.engine.executor import execute
    from hub.engine.models import Run
    from hub.engine.runs import start_run
    from tests.conftest import make_recipe

    notes = meeting_notes(fake_notion)
    digest = fake_notion.add_page("", "Digest")
    steps = [
        {
            "key": "read",
            "app": "notion",
            "action": "get_page_content",
            "connection": "Acme Notion",
            "config": {"page": "{{ trigger.page }}"},
        },
        {
            "key": "write",
            "app": "notion",
            "action": "append_to_page",
            "connection": "Acme Notion",
            "config": {"page": digest["id"], "content": "{{ steps.read.markdown }}"},
        },
    ]
    recipe = make_recipe(workspace, steps)
    run_ = start_run(recipe, Run.Source.MANUAL, {"page": link(notes)})
    assert execute(run_.id) == "succeeded"
    kinds = [kind for kind, _text in fake_notion.block_texts(digest["id"])]
    assert kinds[:3] == ["heading_1", "paragraph", "bulleted_list_item"]
    assert ("to_do", "Book the room") in fake_notion.block_texts(digest["id"])


# -- previews


def preview(conn, key, **config):
    app = registry.get("notion")
    ctx = Context(workspace_id=conn.workspace_id, config=config, connection=conn, integration=app)
    return app.action(key).preview(ctx)


def test_append_preview_lists_every_request_it_would_send_and_sends_none(conn, fake_notion):
    page = fake_notion.add_page("", "Log")
    content = "\n".join(f"- item {i}" for i in range(230))
    shown = preview(conn, "append_to_page", page=page["id"], content=content)
    assert fake_notion.calls("blocks.children.append") == [], "a preview adds nothing"
    assert conn.access_token not in repr(shown)
    run(conn, "append_to_page", page=page["id"], content=content)
    sent = fake_notion.calls("blocks.children.append")
    assert [r["body"] for r in shown["requests"]] == [c.body for c in sent]
    assert shown["url"] == fake_notion.origin + sent[0].path
    assert shown["method"] == sent[0].method == "PATCH"


def test_archive_preview_is_the_request_then_sent(conn, fake_notion):
    page = fake_notion.add_page("", "Old notes")
    shown = preview(conn, "archive_page", page=page["id"])
    assert fake_notion.calls("pages.update") == []
    run(conn, "archive_page", page=page["id"])
    [sent] = fake_notion.calls("pages.update")
    assert shown["body"] == sent.body
    assert shown["url"] == fake_notion.origin + sent.path
