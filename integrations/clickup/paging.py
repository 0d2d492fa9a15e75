"""Paging a picker's choices that ClickUp answers all at once (its hierarchy and member
endpoints take no page parameters): a page token is the offset of the next choice."""

from __future__ import annotations

from integrations.base import Choice, ChoicePage

PAGE_SIZE = 100


def offset(page: str | None) -> int:
    try:
        return max(0, int(page or 0))
    except ValueError:
        return 0


def paged(choices: list[Choice], search: str, page: str | None) -> ChoicePage:
    """One page of ``choices`` whose label holds ``search`` (case-insensitive)."""
    needle = (search or "").strip().lower()
    found = [c for c in choices if needle in str(c.label).lower()] if needle else choices
    start = offset(page)
    end = start + PAGE_SIZE
    return ChoicePage(found[start:end], str(end) if end < len(found) else None)
