"""Webhook load for the benchmarks: open loop, on a fixed schedule of send times.

``rate`` R over ``seconds``: send k is due at ``start + k / R``, whatever the answers' speed.
``senders`` keep-alive connections share the schedule (sender i sends k = i, i + n, …); a
sender that falls behind sends late rather than skipping, and every latency is counted from
the *scheduled* time, so an overloaded hub shows as latency instead of as a lower rate
nobody asked for. ``rate`` None: each sender posts again as soon as it is answered (a
closed loop: the capacity). The report says how many were due, sent and answered 202.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Sent:
    due: float  # wall clock (time.time()) the send was scheduled for
    sent: float
    answered: float
    status: int | str
    run_id: int | None
    text: str


@dataclass
class LoadReport:
    rate: float | None
    seconds: float
    due: int = 0
    sends: list[Sent] = field(default_factory=list)

    @property
    def accepted(self) -> list[Sent]:
        return [s for s in self.sends if s.status == 202]

    @property
    def errors(self) -> int:
        return sum(1 for s in self.sends if s.status != 202)


def send_webhooks(
    port: int, path: str, *, senders: int, rate: float | None, seconds: float, tag: str = ""
) -> LoadReport:
    report = LoadReport(rate=rate, seconds=seconds)
    lock = threading.Lock()
    start = time.time() + 0.2
    stop_at = start + seconds
    total_due = int(rate * seconds) if rate else None
    report.due = total_due or 0

    def sender(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Content-Type": "application/json"}
        k = index
        mine: list[Sent] = []
        while True:
            if rate:
                if k >= total_due:
                    break
                due = start + k / rate
                wait = due - time.time()
                if wait > 0:
                    time.sleep(wait)
            else:
                due = time.time()
                if due >= stop_at:
                    break
            text = f"{tag}{index}-{k}"
            body = json.dumps({"text": text})
            sent = time.time()
            try:
                conn.request("POST", path, body, headers)
                response = conn.getresponse()
                answer = response.read()
                status: int | str = response.status
                run_id = json.loads(answer).get("run_id") if status == 202 else None
            except (OSError, http.client.HTTPException, ValueError) as error:
                status, run_id = type(error).__name__, None
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine.append(Sent(due, sent, time.time(), status, run_id, text))
            k += senders
        conn.close()
        with lock:
            report.sends.extend(mine)

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if not rate:
        report.due = len(report.sends)
    return report
