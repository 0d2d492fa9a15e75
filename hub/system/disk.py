"""Free space under HUB_VAR_DIR, where the embedded default keeps its database, its broker's
messages and the hub's keys.

When it runs low the hub says so (/healthz and the System status page) and the webhook
intake refuses new work with a 503 the sender can retry, instead of accepting a webhook it
may not be able to record. It reads the figure at most once a second per process, so the
intake pays a clock read, not a system call, per request; it recovers by itself once
space is freed.
"""

from __future__ import annotations

import errno
import shutil
import time

from django.conf import settings
from django.utils.translation import gettext as _

_READ_EVERY_SECONDS = 1.0
_last: tuple[float, int] = (-1e9, 0)


def free_bytes() -> int:
    """Bytes free for the hub under HUB_VAR_DIR, read at most once a second."""
    global _last
    now = time.monotonic()
    if now - _last[0] >= _READ_EVERY_SECONDS:
        _last = (now, shutil.disk_usage(settings.VAR_DIR).free)
    return _last[1]


def forget() -> None:
    """Read the figure afresh next time (tests, and after freeing space by hand)."""
    global _last
    _last = (-1e9, 0)


def low_on_space() -> bool:
    return free_bytes() < settings.HUB_MIN_FREE_MB * 1024 * 1024


def check_disk() -> str | None:
    """None, or why the hub's data folder needs attention."""
    try:
        free = free_bytes()
    except OSError as error:
        return _("cannot read the free space of the data folder (%(error)s)") % {
            "error": type(error).__name__
        }
    if free < settings.HUB_MIN_FREE_MB * 1024 * 1024:
        return _(
            "the data folder has %(free)d MB free, less than the %(needed)d MB the hub "
            "needs: free some space (new webhooks are refused until then)"
        ) % {"free": free // (1024 * 1024), "needed": settings.HUB_MIN_FREE_MB}
    return None


def is_disk_full(error: BaseException) -> bool:
    """Whether ``error`` (from the database or the broker) means the disk is full."""
    while error is not None:
        if isinstance(error, OSError) and error.errno == errno.ENOSPC:
            return True
        if "database or disk is full" in str(error) or "No space left" in str(error):
            return True
        error = error.__cause__ or error.__context__
    return False
