"""A task round trip through the real broker and a real worker process (never eager mode)."""

import os
import time

import pytest

from hub.system.models import Heartbeat
from hub.system.tasks import ping


@pytest.mark.django_db(transaction=True)
def test_task_round_trip_through_a_real_worker(celery_worker_process):
    ping.delay("roundtrip")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        beat = Heartbeat.objects.filter(component="ping:roundtrip").first()
        if beat is not None:
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"The worker never ran the task. Its log:\n{celery_worker_process.log()}")
    # Another process ran it: not this one in eager mode.
    assert not beat.detail.endswith(f" pid {os.getpid()}")


@pytest.mark.django_db(transaction=True)
def test_worker_reports_ready_heartbeat(celery_worker_process):
    assert Heartbeat.objects.filter(component="worker").exists()
