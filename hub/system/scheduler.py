"""Celery beat's scheduler: it records a heartbeat, so /healthz can tell the scheduler is
alive even when no worker is running, and it runs the engine's tick itself.

The tick runs here, not as a task a worker picks up: a worker whose slots are all busy with
runs would otherwise hold the tick back behind them, and schedules would fire late exactly
when the hub is busiest. Each tick fires what is due in batches until none is left (bounded,
so one tick never starves beat's other entries), then sends parked waits that are near and
the due polls of app triggers.
Two schedulers may run at once: the tick's SKIP LOCKED and compare-and-set split the work
(docs/engine.md, "Schedules").
"""

import logging
import socket
import time

from celery.beat import PersistentScheduler
from django.conf import settings

log = logging.getLogger(__name__)


class HeartbeatScheduler(PersistentScheduler):
    _last_beat = 0.0
    _last_tick = 0.0

    def tick(self, *args, **kwargs):
        now = time.monotonic()
        if now - self._last_beat >= settings.HEARTBEAT_SECONDS:
            from hub.system.models import Heartbeat

            try:
                Heartbeat.record("scheduler", socket.gethostname())
                self._last_beat = now
            except Exception:
                log.exception("Could not record the scheduler heartbeat")
        if now - self._last_tick >= settings.ENGINE_TICK_SECONDS:
            self._last_tick = now
            try:
                from hub.engine.scheduler import tick_until_done

                tick_until_done()
            except Exception:
                # The database may be restarting; the next tick tries again.
                log.exception("The schedule tick failed")
            finally:
                from django.db import close_old_connections

                close_old_connections()
        interval = super().tick(*args, **kwargs)
        # Wake up in time for the next tick and heartbeat even when no entry is due sooner.
        return min(interval, settings.HEARTBEAT_SECONDS, settings.ENGINE_TICK_SECONDS)
