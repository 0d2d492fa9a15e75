"""The embedded broker (hub/system/file_broker.py) under concurrent producers and
consumers: every message is delivered once, whole, oldest first."""

from __future__ import annotations

import threading
from queue import Empty

import pytest
from kombu import Connection

from hub.system.file_broker import Transport


@pytest.fixture
def folders(tmp_path):
    options = {}
    for name in ("queue", "staging", "processed", "control"):
        (tmp_path / name).mkdir()
    options = {
        "data_folder_in": str(tmp_path / "queue"),
        "data_folder_out": str(tmp_path / "queue"),
        "staging_folder": str(tmp_path / "staging"),
        "processed_folder": str(tmp_path / "processed"),
        "control_folder": str(tmp_path / "control"),
    }
    return tmp_path, options


def channel(options):
    return Connection(transport=Transport, transport_options=options).default_channel


def test_concurrent_producers_and_consumers_deliver_each_message_once_and_whole(folders):
    tmp_path, options = folders
    producers, per_producer = 4, 150
    body = "x" * 20_000  # large enough that a half-written file would be seen
    received, errors = [], []
    lock = threading.Lock()
    done_producing = threading.Event()

    def produce(p):
        ch = channel(options)
        for i in range(per_producer):
            ch._put("q", {"id": f"{p}-{i}", "body": body})

    def consume():
        ch = channel(options)
        while True:
            try:
                message = ch._get("q")
            except Empty:
                if done_producing.is_set():
                    try:
                        message = ch._get("q")
                    except Empty:
                        return
                else:
                    continue
            except Exception as error:  # a half-written message fails to decode
                errors.append(error)
                continue
            with lock:
                received.append(message)

    consumers = [threading.Thread(target=consume) for _ in range(3)]
    makers = [threading.Thread(target=produce, args=(p,)) for p in range(producers)]
    for t in consumers + makers:
        t.start()
    for t in makers:
        t.join()
    done_producing.set()
    for t in consumers:
        t.join()
    assert errors == []
    ids = [m["id"] for m in received]
    assert len(ids) == producers * per_producer
    assert len(set(ids)) == len(ids)
    assert all(m["body"] == body for m in received)
    assert list((tmp_path / "queue").iterdir()) == []
    assert list((tmp_path / "staging").iterdir()) == []
    assert list((tmp_path / "processed").iterdir()) == []


def test_messages_come_out_oldest_first_and_new_ones_after_a_listing(folders):
    _, options = folders
    ch = channel(options)
    for i in range(3):
        ch._put("q", {"n": i})
    assert ch._get("q") == {"n": 0}
    ch._put("q", {"n": 3})  # arrives after the folder was listed
    assert [ch._get("q")["n"] for _ in range(3)] == [1, 2, 3]
    with pytest.raises(Empty):
        ch._get("q")
    assert ch._size("q") == 0


def test_a_failed_write_leaves_no_partial_message(folders, monkeypatch):
    import os

    tmp_path, options = folders
    ch = channel(options)

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(Exception, match="No space left"):
        ch._put("q", {"n": 1})
    assert list((tmp_path / "queue").iterdir()) == []
    assert list((tmp_path / "staging").iterdir()) == []
