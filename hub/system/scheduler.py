"""Celery beat's scheduler: it records a heartbeat, so /healthz can tell the scheduler is
alive even when no worker is running, and it runs the engine's tick itself.

The tick runs here, not as a task a worker picks up: a worker whose slots are all busy with
runs would otherwise hold the tick back behind them, and schedules would fire late exactly
when the hub is busiest. Each tick fires what is due in batches until none is left (bounded,
so one tick never starves beat's other entries), then sends parked waits that are near and
the due polls of app triggers.

Beat wakes for the tick every ``ENGINE_TICK_SECONDS`` and also ``ENGINE_SCHEDULE_LEAD_SECONDS``
(or longer, when preparing took long) before the next schedule's due time (one index
lookup after each tick), so a due time is
prepared ahead and fired at its time rather than up to a tick late.
Two schedulers may run at once: the tick's SKIP LOCKED and compare-and-set split the work
(docs/engine.md, "Scheduling").
"""

import logging
import socket
import time

from celery.beat import PersistentScheduler
from django.conf import settings
from django.utils import timezone

log = logging.getLogger(__name__)


class HeartbeatScheduler(PersistentScheduler):
    _last_beat = 0.0
    _next_tick = 0.0

    def tick(self, *args, **kwargs):
        now = time.monotonic()
        if now - self._last_beat >= settings.HEARTBEAT_SECONDS:
            from hub.system.models import Heartbeat

            try:
                Heartbeat.record("scheduler", socket.gethostname())
                self._last_beat = now
            except Exception:
                log.exception("Could not record the scheduler heartbeat")
        if now >= self._next_tick:
            self._next_tick = now + settings.ENGINE_TICK_SECONDS
            try:
                from hub.engine.scheduler import tick_until_done

                tick_until_done(lead=True)
                self._next_tick = min(self._next_tick, self._wake_for_next_due())
            except Exception:
                # The database may be restarting; the next tick tries again.
                log.exception("The schedule tick failed")
            finally:
                from django.db import close_old_connections

                close_old_connections()
        interval = super().tick(*args, **kwargs)
        # Wake up in time for the next tick and heartbeat even when no entry is due sooner.
        until_tick = max(0.0, self._next_tick - time.monotonic())
        return min(interval, settings.HEARTBEAT_SECONDS, until_tick)

    def _wake_for_next_due(self) -> float:
        """The monotonic moment to tick again for the next schedule: its lead before the due
        time; at the due time when that lead has begun (another scheduler holds it); never
        sooner than that, so a due time nobody can fire does not spin the loop."""
        from hub.engine.scheduler import lead_seconds, next_due

        due = next_due()
        if due is None:
            return float("inf")
        now = timezone.now()
        ahead = (due - now).total_seconds()
        lead = lead_seconds(due)
        if ahead > lead:
            return time.monotonic() + ahead - lead
        if ahead > 0:
            return time.monotonic() + ahead
        return float("inf")
