"""Settings of the recipe engine and of polled triggers, read from the environment;
``hub/settings.py`` takes them all (its own size is capped). docs/engine.md explains each."""

from __future__ import annotations

import os


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


# Hosts, IPs or CIDRs the HTTP request step may reach although they are not public
# (e.g. "intranet.example.com,10.0.0.0/8"); everything private is refused otherwise.
HTTP_STEP_ALLOWLIST = env_list("HTTP_STEP_ALLOWLIST")
ENGINE_LEASE_SECONDS = int(env("ENGINE_LEASE_SECONDS", "120"))
ENGINE_STEP_TIMEOUT_SECONDS = int(env("ENGINE_STEP_TIMEOUT_SECONDS", "60"))
ENGINE_RUN_TIMEOUT_SECONDS = int(env("ENGINE_RUN_TIMEOUT_SECONDS", str(6 * 3600)))
ENGINE_MAX_ATTEMPTS = int(env("ENGINE_MAX_ATTEMPTS", "6"))
ENGINE_RETRY_BASE_SECONDS = float(env("ENGINE_RETRY_BASE_SECONDS", "2"))
ENGINE_RETRY_MAX_SECONDS = float(env("ENGINE_RETRY_MAX_SECONDS", "900"))
ENGINE_OUTPUT_MAX_BYTES = int(env("ENGINE_OUTPUT_MAX_BYTES", str(64 * 1024)))
ENGINE_OUTPUT_HARD_MAX_BYTES = int(env("ENGINE_OUTPUT_HARD_MAX_BYTES", str(5 * 1024 * 1024)))
ENGINE_LOOP_MAX_ITEMS = int(env("ENGINE_LOOP_MAX_ITEMS", "100"))
ENGINE_WEBHOOK_MAX_BYTES = int(env("ENGINE_WEBHOOK_MAX_BYTES", str(1024 * 1024)))
ENGINE_RUN_RETENTION_DAYS = int(env("ENGINE_RUN_RETENTION_DAYS", "30"))
# How long an event that started a run (schedule due time, Idempotency-Key, poller item) is
# remembered, whatever the run retention: over a year, beyond any sender's retry window.
ENGINE_DEDUPE_DAYS = int(env("ENGINE_DEDUPE_DAYS", "400"))
# Waits up to this long are handed to the broker with a countdown; longer ones stay in the
# database and the tick sends them this long before they are due. Capped at half the broker's
# visibility timeout (Redis hands an unacknowledged countdown message out again after it).
ENGINE_WAIT_ENQUEUE_SECONDS = int(env("ENGINE_WAIT_ENQUEUE_SECONDS", "300"))
# The scheduler (beat) runs the schedule tick itself this often (hub/system/scheduler.py).
ENGINE_TICK_SECONDS = float(env("ENGINE_TICK_SECONDS", "1"))
# It wakes this long before a schedule's due time to prepare the runs, and inserts them at the
# due time itself (PostgreSQL; docs/engine.md, "Scheduling").
ENGINE_SCHEDULE_LEAD_SECONDS = float(env("ENGINE_SCHEDULE_LEAD_SECONDS", "5"))
ENGINE_SWEEP_SECONDS = int(env("ENGINE_SWEEP_SECONDS", "30"))
# A queued run whose message has not been picked up for this long is sent again.
ENGINE_SWEEP_GRACE_SECONDS = int(env("ENGINE_SWEEP_GRACE_SECONDS", "120"))
# Polling triggers (docs/engine.md, "Polling triggers"): items one poll may fire, minutes
# between polls (admins may set 1-15 per recipe), how long a sent poll holds its turn before
# the tick sends it again, the backoff of a failing poll, and how long / how many fired ids
# a trigger remembers.
TRIGGER_POLL_MAX_ITEMS = int(env("TRIGGER_POLL_MAX_ITEMS", "100"))
TRIGGER_POLL_MINUTES = int(env("TRIGGER_POLL_MINUTES", "1"))
TRIGGER_POLL_LEASE_SECONDS = int(env("TRIGGER_POLL_LEASE_SECONDS", "300"))
TRIGGER_POLL_BACKOFF_BASE_SECONDS = float(env("TRIGGER_POLL_BACKOFF_BASE_SECONDS", "60"))
TRIGGER_POLL_BACKOFF_MAX_SECONDS = float(env("TRIGGER_POLL_BACKOFF_MAX_SECONDS", "900"))
TRIGGER_SEEN_DAYS = int(env("TRIGGER_SEEN_DAYS", "7"))
TRIGGER_SEEN_MAX = int(env("TRIGGER_SEEN_MAX", "5000"))

# Only the settings themselves go to hub/settings.py.
__all__ = [name for name in dir() if name.isupper()]
