"""The embedded default's message broker: kombu's file-system transport, made safe for a
web and a worker writing and reading the same folder at speed, and cheaper per message.

kombu's own transport (``kombu.transport.filesystem``) has three faults this fixes:

- A message file is created empty and then written, and a consumer may list, take and
  read it in between: it reads nothing, fails to decode it, and the message is gone. Here a
  message is written under ``staging/`` and renamed into the queue folder whole (a rename
  within one file system is atomic), so a consumer only ever sees complete messages.
- A consumer takes a message by moving it to the system's temporary folder, a copy when
  that is another file system. Here it is renamed into ``processed_folder`` beside the
  queue, which is also the claim: of two consumers racing for a file only one rename wins.
- Every message taken listed and sorted the whole folder again (a backlog of n messages
  cost n² to drain). Here one listing is kept and taken from in order until it runs out.

Messages are taken oldest first, as before. Celery's settings point ``broker_transport`` at
this ``Transport`` when ``CELERY_BROKER_URL`` is ``filesystem://`` (hub/settings.py).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import uuid
from collections import deque
from queue import Empty
from time import monotonic_ns

from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

_SEQUENCE = itertools.count()


class Channel(filesystem.Channel):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._listed: dict[str, deque[str]] = {}

    @property
    def staging_folder(self) -> str:
        return self.transport_options.get(
            "staging_folder", os.path.join(self.data_folder_out, os.pardir, "staging")
        )

    def _put(self, queue, payload, **kwargs):
        """Write the message beside the queue, then rename it in, whole."""
        # Sorted by name when taken: the clock in ns, then this process's count, so messages
        # put within one clock tick still come out in the order they were put.
        name = f"{monotonic_ns():020d}_{next(_SEQUENCE):012d}_{uuid.uuid4()}.{queue}.msg"
        staged = os.path.join(self.staging_folder, name)
        try:
            with open(staged, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(staged, os.path.join(self.data_folder_out, name))
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(staged)
            raise filesystem.ChannelError(f"Cannot add a message to {queue!r}: {exc}") from exc

    def _get(self, queue):
        """The oldest message of ``queue``, taken by renaming it out of the folder."""
        listed = self._listed.get(queue)
        if not listed:
            wanted = f"{queue}.msg"
            names = [n for n in os.listdir(self.data_folder_in) if n.partition(".")[2] == wanted]
            listed = self._listed[queue] = deque(sorted(names))
        while listed:
            name = listed.popleft()
            taken = os.path.join(self.processed_folder, name)
            try:
                os.rename(os.path.join(self.data_folder_in, name), taken)
            except FileNotFoundError:
                continue  # another consumer took it
            try:
                with open(taken, "rb") as file:
                    payload = file.read()
            finally:
                if not self.store_processed:
                    os.unlink(taken)
            return loads(bytes_to_str(payload))
        raise Empty()

    def _purge(self, queue):
        self._listed.pop(queue, None)
        return super()._purge(queue)


class Transport(filesystem.Transport):
    Channel = Channel
