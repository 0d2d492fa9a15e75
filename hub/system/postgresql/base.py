"""Django's PostgreSQL backend with a health check that costs no round trip.

With ``CONN_HEALTH_CHECKS`` Django asks the server ``SELECT 1`` before the first query of
every request and every task that reuses a connection: one extra statement per accepted
webhook and per run, in the web, the worker and PostgreSQL itself (docs/engine.md, "Scale").

An idle connection has nothing to read. When the server goes away — a restart, a
``pg_terminate_backend``, a proxy cutting the link — it sends its goodbye (an error message)
or closes the socket, and either makes the socket readable. So a connection that psycopg
does not know to be broken, that is idle, and whose socket has nothing waiting is usable
without asking; in every other case the server is asked as before, and a connection that
does not answer is replaced, so the request or task after an outage still gets a working
one. A link that died without a word (no FIN) is not seen by either check until a query
fails; Django then drops the connection at the end of that request.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self):
        conn = self.connection
        if conn is None or conn.closed:
            return False
        if conn.info.transaction_status == pq.TransactionStatus.IDLE and not _readable(conn):
            return True
        return super().is_usable()


def _readable(conn) -> bool:
    try:
        ready, _, _ = select.select([conn.fileno()], [], [], 0)
    except (OSError, ValueError):
        return True  # no socket to look at: let the server's answer decide
    return bool(ready)
