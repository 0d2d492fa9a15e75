"""Redis going away under a worker (bench/faults.py, "Redis restarted", is the soak): the
broker channel a worker still holds after kombu detached its transport must report a lost
connection — which Celery recovers from — never an AttributeError, which made the worker
exit. A redis-server of the test's own, never the machine's shared one."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest
from kombu import Connection

from hub.system.redis_broker import Transport

pytestmark = pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server")


@pytest.fixture
def redis_url(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(  # noqa: S603
        ["redis-server", "--port", str(port), "--save", "", "--dir", str(tmp_path)],  # noqa: S607
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    server.terminate()
    server.wait()


def test_a_channel_left_after_its_transport_was_closed_reports_a_lost_connection(redis_url):
    connection = Connection(redis_url, transport=Transport)
    channel = connection.default_channel
    # What kombu does when Celery closes the connection to reconnect: the channel drops its
    # pools, the transport is detached from the connection.
    channel._disconnect_pools()
    connection.transport.client = None
    with pytest.raises(Transport.connection_errors) as caught:
        channel._create_client()  # an ack or a restore of unacked messages needs a client
    assert "delivered again" in str(caught.value)
    # Closing it, as Celery's consumer does before reconnecting, is then harmless.
    connection.maybe_close_channel(channel)


def test_the_settings_use_it_for_a_redis_broker(settings):
    from hub.celery import app

    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("the embedded default uses the file broker")
    assert app.connection_for_write().transport_cls == "hub.system.redis_broker:Transport"


def test_publishing_builds_one_client_per_pool_and_a_new_one_after_a_reconnect(
    redis_url, monkeypatch
):
    import redis

    built = []
    original = redis.Redis.__init__

    def counting(client, *args, **kwargs):
        built.append(kwargs.get("connection_pool"))
        original(client, *args, **kwargs)

    monkeypatch.setattr(redis.Redis, "__init__", counting)
    connection = Connection(redis_url, transport=Transport)
    queue = connection.SimpleQueue("hub-test-publish")
    queue.put({"n": 0})
    after_first = len(built)
    for n in range(1, 20):
        queue.put({"n": n})
    assert len(built) == after_first  # not one client per message
    # A reconnect replaces the channel's pools: the next message goes through the new one.
    old_pool = queue.channel.pool
    queue.channel._disconnect_pools()
    queue.put({"n": 20})
    assert built[-1] is queue.channel.pool is not old_pool
    assert [queue.get(timeout=5).payload["n"] for _ in range(21)] == list(range(21))
    queue.close()
    connection.close()
