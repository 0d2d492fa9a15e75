"""Celery beat's scheduler, recording a heartbeat so /healthz can tell the scheduler is alive
even when no worker is running."""

import logging
import socket
import time

from celery.beat import PersistentScheduler
from django.conf import settings

log = logging.getLogger(__name__)


class HeartbeatScheduler(PersistentScheduler):
    _last_beat = 0.0

    def tick(self, *args, **kwargs):
        now = time.monotonic()
        if now - self._last_beat >= settings.HEARTBEAT_SECONDS:
            from hub.system.models import Heartbeat

            try:
                Heartbeat.record("scheduler", socket.gethostname())
                self._last_beat = now
            except Exception:
                log.exception("Could not record the scheduler heartbeat")
        interval = super().tick(*args, **kwargs)
        # Wake up in time for the next heartbeat even when no entry is due for longer.
        return min(interval, settings.HEARTBEAT_SECONDS)
