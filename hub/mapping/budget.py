"""The bounds of the mapping language: how large a template, a config and a value may be,
and the budget that caps what one render produces and the work its filters do."""

from __future__ import annotations

import math
from typing import Any

from hub.mapping.errors import NOT_FINITE, MappingError

MAX_TEMPLATE_CHARS = 100_000
MAX_REFERENCES = 100
MAX_FILTERS = 20
MAX_PATH_SEGMENTS = 50
MAX_CONFIG_DEPTH = 32
MAX_CONFIG_NODES = 10_000
MAX_VALUE_DEPTH = 64
MAX_OUTPUT_CHARS = 1_000_000
MAX_LIST_ITEMS = 100_000
# The work one step's fields may take: characters the filters read and write, plus what the
# render produces. Twenty times the output cap lets several filters go over a 1 MB value.
MAX_WORK_CHARS = 20_000_000


class Budget:
    """What one render may produce (``remaining``) and the work it may take (``work``, in
    characters read and written: what it produces counts as work too)."""

    def __init__(self, limit: int = MAX_OUTPUT_CHARS, work_limit: int = MAX_WORK_CHARS) -> None:
        self.remaining = limit
        self.work = 0
        self.work_limit = work_limit

    def spend(self, n: int) -> None:
        self.remaining -= n
        if self.remaining < 0:
            raise MappingError(
                f"The result is larger than {MAX_OUTPUT_CHARS:,} characters; "
                "use a filter such as truncate to shorten it."
            )
        self.charge(n)

    def charge(self, n: int) -> None:
        """Count work about to be done; refuse it, before it is done, past the limit."""
        if self.work + n > self.work_limit:
            raise MappingError(
                f"This takes more work than a step's fields may: its filters would go through "
                f"more than {self.work_limit:,} characters. Shorten large data first (for "
                "example with truncate), or use fewer filters over it."
            )
        self.work += n


def weight(value: Any) -> int:
    """How much a filter reads or writes when it goes through ``value``: characters of text,
    items of a list or object (what they hold is counted where it is turned into text)."""
    if isinstance(value, str | list | tuple | dict):
        return len(value)
    return 1


def scalar_size(value: Any) -> int:
    if value is None or isinstance(value, bool):
        return 5
    if isinstance(value, str):
        return len(value) + 2
    if isinstance(value, int):
        return max(1, value.bit_length() // 3)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise MappingError(NOT_FINITE)
        return 24
    raise MappingError(f"This value is not plain data ({type(value).__name__}).")
