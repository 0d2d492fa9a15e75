"""A fake of Slack's Socket Mode websocket: the URL ``apps.connections.open`` hands out (see
``FakeSlack.socket_mode``), a ``hello`` on connect, ``events_api`` envelopes pushed to the
connected client, and the acknowledgements (``{"envelope_id": …}``) it sends back. An envelope
not acknowledged within ``ack_timeout`` is sent again with ``retry_attempt`` + 1, as Slack does.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

from websockets.sync.server import ServerConnection, serve


class FakeSocketMode:
    def __init__(self, *, ack_timeout: float = 3.0) -> None:
        self.ack_timeout = ack_timeout
        self.acks: list[str] = []
        self.sent: list[dict[str, Any]] = []
        self.connections: list[ServerConnection] = []
        self.paths: list[str] = []
        self._acked = threading.Condition()
        self._server = serve(self._handler, "127.0.0.1", 0)
        self.port = self._server.socket.getsockname()[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeSocketMode:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()

    def url(self, ticket: str) -> str:
        return f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}&app_id=A0FAKEAPP1"

    def _handler(self, connection: ServerConnection) -> None:
        self.paths.append(connection.request.path if connection.request else "")
        self.connections.append(connection)
        connection.send(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": len(self.connections),
                    "debug_info": {"host": "fake-socket-mode", "approximate_connection_time": 3600},
                    "connection_info": {"app_id": "A0FAKEAPP1"},
                }
            )
        )
        for message in connection:
            data = json.loads(message)
            if "envelope_id" in data:
                with self._acked:
                    self.acks.append(data["envelope_id"])
                    self._acked.notify_all()

    def wait_connected(self, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while not self.connections and time.monotonic() < deadline:
            time.sleep(0.02)
        if not self.connections:
            raise TimeoutError("no Socket Mode client connected")

    def push(self, envelope: dict[str, Any], *, retries: int = 2) -> list[int]:
        """Send an ``events_api`` envelope and wait for its acknowledgement; unacknowledged,
        it goes again. Returns the retry attempts that were acknowledged ([] for none)."""
        envelope_id = str(uuid.uuid4())
        acked: list[int] = []
        for attempt in range(retries + 1):
            message = {
                "envelope_id": envelope_id,
                "type": "events_api",
                "accepts_response_payload": False,
                "retry_attempt": attempt,
                "retry_reason": "timeout" if attempt else "",
                "payload": envelope,
            }
            self.sent.append(message)
            self.connections[-1].send(json.dumps(message))
            with self._acked:
                if self._acked.wait_for(lambda: envelope_id in self.acks, self.ack_timeout):
                    acked.append(attempt)
                    break
        return acked
