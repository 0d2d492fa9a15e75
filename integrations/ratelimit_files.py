"""A ``limits`` storage in files, for the embedded defaults (SQLite and the file broker).

Worker processes on one machine share it: each key is one small JSON file, read and written
under an exclusive ``flock``, so two processes taking a slot of the same window queue on the
lock for a few microseconds instead of both getting it. Chosen over a table in the hub's
database because every outbound call would otherwise add a write transaction to SQLite's one
writer lock, which the runs themselves need; over ``memory://`` because that one is per
process. It is for one machine: several machines share Redis (``redis://``) instead.

Registered with ``limits`` under the ``file://`` scheme: ``file:///var/hub/ratelimit``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from limits.storage import MovingWindowSupport, Storage


class FileStorage(Storage, MovingWindowSupport):
    STORAGE_SCHEME = ["file"]

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options: Any) -> None:
        self.directory = Path(unquote(urlsplit(uri).path))
        self.directory.mkdir(parents=True, exist_ok=True)
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception]:
        return OSError

    def _path(self, key: str) -> Path:
        return self.directory / (hashlib.sha256(key.encode()).hexdigest()[:40] + ".json")

    @contextlib.contextmanager
    def _locked(self, key: str) -> Iterator[dict]:
        """The key's state, locked for the block; what the block leaves in it is saved."""
        fd = os.open(self._path(key), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            raw = b""
            while chunk := os.read(fd, 65536):
                raw += chunk
            try:
                state = json.loads(raw) if raw else {}
            except ValueError:
                state = {}  # a half-written file after a crash: start the window afresh
            before = dict(state)
            yield state
            if state != before:
                data = json.dumps(state).encode()
                os.lseek(fd, 0, os.SEEK_SET)
                os.ftruncate(fd, 0)
                os.write(fd, data)
        finally:
            os.close(fd)  # releases the lock

    # -- moving window ---------------------------------------------------------------------

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        with self._locked(key) as state:
            # The time once the lock is ours: read before it, a slot taken after waiting for
            # the other process would be stamped too early and free too soon.
            now = time.time()
            entries = [t for t in state.get("entries", []) if t >= now - expiry]  # newest first
            if len(entries) + amount > limit:
                state["entries"] = entries
                return False
            state["entries"] = ([now] * amount + entries)[:limit]
            return True

    def get_moving_window(self, key: str, limit: int, expiry: float) -> tuple[float, int]:
        with self._locked(key) as state:
            now = time.time()
            entries = [t for t in state.get("entries", []) if t >= now - expiry]
        if not entries:
            return now, 0
        return entries[-1], len(entries)

    # -- counters (fixed windows) ----------------------------------------------------------

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        with self._locked(key) as state:
            if state.get("expires_at", 0) <= now:
                state.clear()
                state["expires_at"] = now + expiry
            state["count"] = state.get("count", 0) + amount
            return state["count"]

    def get(self, key: str) -> int:
        with self._locked(key) as state:
            return state.get("count", 0) if state.get("expires_at", 0) > time.time() else 0

    def get_expiry(self, key: str) -> float:
        with self._locked(key) as state:
            return float(state.get("expires_at") or time.time())

    def check(self) -> bool:
        return os.access(self.directory, os.W_OK)

    def reset(self) -> int | None:
        removed = 0
        for path in self.directory.glob("*.json"):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed += 1
        return removed

    def clear(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(key).unlink()
