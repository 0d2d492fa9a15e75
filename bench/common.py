"""What every benchmark needs: the figures it prints first, so readings of different days
can be compared — the machine's cores and load, and the time of a fixed pure-Python workload
run in the same sitting (on these shared machines absolute figures drift by 2x from day to
day) — and the CPU a process has used."""

from __future__ import annotations

import os
import time
from pathlib import Path


def _workload() -> int:
    total = 0
    for i in range(2_000_000):
        total = (total + i * i) % 1_000_003
    return total


def calibration_ms(repeats: int = 3) -> float:
    """The fastest of ``repeats`` runs of the fixed workload, in ms."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        _workload()
        best = min(best, (time.perf_counter() - start) * 1000)
    return best


def header(title: str) -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"== {title} ==\n"
        f"cores: {os.cpu_count()}  load average: {load}  "
        f"calibration (fixed pure-Python workload): {calibration_ms():.0f} ms\n"
        f"date: {time.strftime('%Y-%m-%d %H:%M %Z')}"
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process (all its threads) so far, in seconds; 0 once gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
