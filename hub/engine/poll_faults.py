"""What a poll's outcome does to its trigger state: the next due time, and the failures a
recipe page shows (docs/engine.md, "Polling triggers").

A passing fault (5xx, 429, a timeout) backs off exponentially, capped, never sooner than the
app's Retry-After, and the next poll resumes from the unchanged cursor. A refused token
marks the connection broken, which pauses its recipes (``connection_broken``, handled by
hub/recipes/signals.py), as a step's refused token does; the poll task marks it once its
transaction has committed.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from hub.engine.messages import Message, gettext_noop
from hub.engine.models import TriggerState
from integrations.base import IntegrationError

log = logging.getLogger(__name__)


def backoff_seconds(failures: int, retry_after: float | None = None) -> float:
    """Exponential from TRIGGER_POLL_BACKOFF_BASE_SECONDS, capped at _MAX_SECONDS, with
    jitter on the upper half so a shared outage does not bring every poll back at once."""
    base = settings.TRIGGER_POLL_BACKOFF_BASE_SECONDS * (2 ** max(0, failures - 1))
    delay = min(settings.TRIGGER_POLL_BACKOFF_MAX_SECONDS, base) * random.uniform(0.5, 1.0)  # noqa: S311
    if retry_after is not None:
        delay = max(delay, float(retry_after))
    return delay


def record_success(
    state: TriggerState,
    cursor: Any,
    seen: list,
    now: datetime,
    *,
    soon: bool,
    every: timedelta,
    fired: int,
) -> None:
    """The poll worked: store where it got to. With items left over (``soon``) the next
    tick polls again; otherwise after the trigger's interval."""
    state.cursor = cursor
    state.seen_ids = seen
    state.last_polled_at = now
    if fired:
        state.last_fired_at = now
    state.failures = 0
    state.last_error = ""
    state.failing_since = None
    state.next_fire_at = now if soon else now + every
    state.save()


def record_failure(state: TriggerState, error: IntegrationError) -> Message | None:
    """The poll failed: keep the cursor, note why, and come back after the backoff. For a
    refused token (after the one refresh) returns why the connection is broken: the caller
    marks it so once this transaction has committed."""
    now = timezone.now()
    state.failures += 1
    state.last_error = str(error.message)[:1000]
    state.failing_since = state.failing_since or now
    delay = backoff_seconds(state.failures, error.retry_after)
    if error.permanent and not error.reauth:
        delay = settings.TRIGGER_POLL_BACKOFF_MAX_SECONDS
    state.next_fire_at = now + timedelta(seconds=delay)
    state.save()
    log.info("Poll of trigger state %s failed (%s): %s", state.pk, state.failures, error.message)
    if not error.reauth:
        return None
    return Message(
        gettext_noop("The app no longer accepts this connection: %(detail)s"),
        detail=error.message,
    )
