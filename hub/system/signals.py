import logging
import socket

from celery.signals import worker_ready

log = logging.getLogger(__name__)


@worker_ready.connect
def record_worker_ready(**kwargs) -> None:
    from hub.system.models import Heartbeat

    try:
        Heartbeat.record("worker", socket.gethostname())
    except Exception:  # the worker still works; healthz will say the database is down
        log.exception("Could not record the worker heartbeat")
