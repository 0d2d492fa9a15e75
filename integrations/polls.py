"""What a polling trigger is asked and answers (part of the contract in ``base.py``, which
re-exports these)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class PollItem:
    """One new thing a poll found. ``id`` is its identity for exactly-once firing: the
    app's id for "new" triggers, the id plus a hash of the watched values for "changed"
    ones. ``data`` becomes the run's trigger data (the trigger's ``outputs``)."""

    id: str
    data: dict[str, Any]


@dataclass(frozen=True)
class PollRequest:
    """What the hub asks of a poll.

    ``cursor`` is what the previous poll returned (None the first time). ``limit`` bounds the
    items one poll may return (the rest wait for the next poll, which resumes from the
    cursor). ``seen`` holds the ids already fired recently, so a poll with an overlap window
    can skip them. ``mode`` is ``"poll"`` normally, ``"seed"`` on the first poll after
    publishing (return the cursor for "now" and no old items, unless the member asked for
    the most recent one), ``"test"`` for Test trigger (the newest few items, newest first;
    the cursor is not stored).
    """

    cursor: Any = None
    limit: int = 100
    seen: frozenset[str] = frozenset()
    mode: Literal["poll", "seed", "test"] = "poll"


@dataclass(frozen=True)
class PollResult:
    """New items found by a poll, oldest first, and the cursor to resume from next time.
    ``more`` says items were left for the next poll (the limit was reached)."""

    items: list[PollItem]
    cursor: Any = None
    more: bool = False
