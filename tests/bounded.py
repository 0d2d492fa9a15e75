"""Bounded work instead of wall-clock limits: how many lines of Python a call runs.

A test of "this finishes quickly" asserts a count that does not depend on the machine's
load: the lines executed (every frame, this thread), stopped with ``TooMuchWork`` as soon as
the bound is passed, so a regression fails at once instead of running on. Work inside one C
call (``str.upper`` on a long text) counts as one line; the mapping budget counts that
separately (``hub.mapping.budget.Budget.work``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any


class TooMuchWork(BaseException):
    """A BaseException, so no ``except Exception`` in the code under test swallows it."""


def lines_run(fn: Callable[..., Any], *args: Any, limit: int, catch=()) -> tuple[Any, int]:
    """Call ``fn(*args)``; return (its result, or the exception type in ``catch`` it raised,
    and the number of lines it ran). Raises ``TooMuchWork`` past ``limit`` lines."""
    count = 0

    def local(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
            if count > limit:
                raise TooMuchWork(f"more than {limit:,} lines of Python")
        return local

    def start(frame, event, arg):
        return local

    previous = sys.gettrace()
    sys.settrace(start)
    try:
        result = fn(*args)
    except catch as exc:
        result = type(exc)
    finally:
        sys.settrace(previous)
    return result, count
