"""Checks of what the hub needs: database, disk space, broker, worker and scheduler.

Each check returns None when the part is fine, or a short reason a person can act on. No
reason reveals a secret (URLs are never included).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from hub.system.disk import check_disk

log = logging.getLogger(__name__)


def _heartbeat_age(component: str) -> timedelta | None:
    from hub.system.models import Heartbeat

    beat = Heartbeat.objects.filter(component=component).first()
    return None if beat is None else timezone.now() - beat.beat_at


def _stale_after() -> timedelta:
    # Two periods, plus a little for a busy worker picking the heartbeat task up late.
    return timedelta(seconds=2 * settings.HEARTBEAT_SECONDS + 5)


def check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:
        log.warning("Health: database check failed: %s", type(error).__name__)
        return _("cannot query the database (%(error)s)") % {"error": type(error).__name__}
    return None


def check_broker() -> str | None:
    from hub.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as error:
        log.warning("Health: broker check failed: %s", type(error).__name__)
        return _("cannot reach the message broker (%(error)s)") % {"error": type(error).__name__}
    return None


def check_worker() -> str | None:
    try:
        age = _heartbeat_age("worker")
    except Exception:
        return _("unknown: the database is unavailable")
    if age is not None and age <= _stale_after():
        return None
    from hub.celery import app

    try:
        if app.control.ping(timeout=1.0):
            return None
    except Exception as error:
        log.info("Health: worker ping not possible: %s", type(error).__name__)
    if age is None:
        return _("no worker has reported yet: start one with `celery -A hub worker`")
    return _("no worker heartbeat for %(seconds)s s") % {"seconds": int(age.total_seconds())}


def check_scheduler() -> str | None:
    try:
        age = _heartbeat_age("scheduler")
    except Exception:
        return _("unknown: the database is unavailable")
    if age is None:
        return _("the scheduler has not reported yet: start it with `celery -A hub beat`")
    if age > _stale_after():
        return _("no scheduler heartbeat for %(seconds)s s") % {"seconds": int(age.total_seconds())}
    return None


CHECKS = {
    "database": check_database,
    "disk": check_disk,
    "broker": check_broker,
    "worker": check_worker,
    "scheduler": check_scheduler,
}


def run_checks() -> dict[str, str | None]:
    return {name: check() for name, check in CHECKS.items()}
