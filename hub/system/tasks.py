import os
import socket

from celery import shared_task

from hub.system.models import Heartbeat


@shared_task(name="hub.system.tasks.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """Sent by the scheduler every HEARTBEAT_SECONDS; a worker running it proves both alive."""
    Heartbeat.record("worker", socket.gethostname())


@shared_task(name="hub.system.tasks.ping", ignore_result=True)
def ping(marker: str) -> None:
    """A round trip through the broker: the caller looks for the marker in the database."""
    Heartbeat.record(f"ping:{marker}"[:30], f"{socket.gethostname()} pid {os.getpid()}")
