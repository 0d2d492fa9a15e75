"""append_to_page sends long content in batches of 100 blocks; when one batch fails after
earlier ones went through, the step's retry sends only what the page does not hold yet."""

from __future__ import annotations

import pytest

from integrations.base import IntegrationError
from tests.notion_helpers import conn, fake_notion, run

__all__ = ["conn", "fake_notion"]
pytestmark = pytest.mark.django_db


def lines(count: int, word: str = "line") -> str:
    return "\n\n".join(f"{word} {i}" for i in range(count))


def test_a_retry_after_a_partial_success_does_not_double_the_content(conn, fake_notion):
    page = fake_notion.add_page("", "Notes", blocks=[])
    fake_notion.delay("blocks.children.append", 0, times=1)  # the first batch goes through
    fake_notion.rate_limit("blocks.children.append", retry_after=2)  # the second is refused
    with pytest.raises(IntegrationError) as caught:
        run(conn, "append_to_page", page=page["id"], content=lines(250))
    assert caught.value.retryable and caught.value.retry_after == 2
    assert len(fake_notion.block_texts(page["id"])) == 100
    # The engine runs the step again.
    out = run(conn, "append_to_page", page=page["id"], content=lines(250))
    texts = [text for _kind, text in fake_notion.block_texts(page["id"])]
    assert texts == [f"line {i}" for i in range(250)], "every block once, in order"
    assert out["blocks_added"] == 250
    appended = [c for c in fake_notion.calls("blocks.children.append") if c.status == 200]
    assert [len(c.body["children"]) for c in appended] == [100, 100, 50]


def test_content_appended_again_on_purpose_is_appended_again(conn, fake_notion):
    page = fake_notion.add_page("", "Log", blocks=[])
    run(conn, "append_to_page", page=page["id"], content=lines(3, "daily"))
    run(conn, "append_to_page", page=page["id"], content=lines(3, "daily"))
    assert len(fake_notion.block_texts(page["id"])) == 6
    # Long content too: a page ending with the whole content is not a part-way failure.
    run(conn, "append_to_page", page=page["id"], content=lines(150))
    run(conn, "append_to_page", page=page["id"], content=lines(150))
    assert len(fake_notion.block_texts(page["id"])) == 6 + 300


def test_one_batch_reads_nothing_first(conn, fake_notion):
    page = fake_notion.add_page("", "Short", blocks=[])
    run(conn, "append_to_page", page=page["id"], content=lines(100))
    assert fake_notion.calls("blocks.children.list") == []
