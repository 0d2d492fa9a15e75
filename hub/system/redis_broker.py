"""kombu's Redis transport, with one repair: a channel used after its connection was closed
reports a lost connection instead of crashing the worker.

When Redis goes away, Celery's consumer closes the broker connection to reconnect: each
channel drops its connection pools, then kombu detaches the transport from its connection
(``transport.client = None``). A task thread that finishes meanwhile still acknowledges its
message on the old channel; the channel rebuilds a pool from the detached transport, reads
``transport.client.hostname`` and raises ``AttributeError`` (kombu 5.7,
``Channel._connparams``). That is not one of the transport's connection errors, so Celery
treats it as unrecoverable and the worker exits (bench/faults.py, "Redis restarted").

Here the same moment raises redis-py's ``ConnectionError``, which kombu lists among the
Redis transport's connection errors: Celery logs that the ack could not be sent, the message
stays unacknowledged and comes back after the visibility timeout, and the engine's lease
keeps that redelivery from running a finished step again (docs/engine.md, "Scale").

And one saving: kombu builds a new ``redis.Redis`` client for every message it publishes
(``conn_or_acquire`` without a client), ~80 µs of the web's accept of a webhook; a client
holds no connection of its own (it borrows one from the channel's pool per command), so the
channel keeps one per pool and builds a new one only when the pool is replaced.
"""

from __future__ import annotations

from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(kombu_redis.Channel):
    def _connparams(self, asynchronous=False):
        if self.connection.client is None:
            raise RedisConnectionError(
                "The broker connection was closed (Redis went away); the message stays "
                "unacknowledged and is delivered again."
            )
        return super()._connparams(asynchronous=asynchronous)

    _sync_client = None

    def _create_client(self, asynchronous=False):
        if asynchronous:
            return super()._create_client(asynchronous=True)
        pool = self.pool
        client = self._sync_client
        if client is None or client.connection_pool is not pool:
            client = self._sync_client = super()._create_client()
        return client


class Transport(kombu_redis.Transport):
    Channel = Channel
