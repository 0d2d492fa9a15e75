"""Settings of the per-connection rate limiter (integrations/ratelimit.py), read from the
environment; ``hub/settings.py`` takes them all (its own size is capped)."""

from __future__ import annotations

import os


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


# Per-connection rate limits (integrations/ratelimit.py), in the limits library notation,
# sized to what each app publishes; each can be set as RATE_LIMIT_<KEY> (dots as _), e.g.
# RATE_LIMIT_CLICKUP=1000/minute for Business Plus. Gmail counts quota units, not calls.
RATE_LIMIT_DEFAULTS = {
    "notion": "3/second",
    "clickup": "100/minute",
    "gmail": "250/second;15000/minute",
    "slack.tier1": "1/minute",
    "slack.tier2": "20/minute",
    "slack.tier3": "50/minute",
    "slack.tier4": "100/minute",
    "slack.chat.postMessage": "1/second",
}
RATE_LIMITS = {
    key: env("RATE_LIMIT_" + key.upper().replace(".", "_"), value)
    for key, value in RATE_LIMIT_DEFAULTS.items()
}
# Where the windows live: empty = the broker's Redis, else files under HUB_VAR_DIR.
RATE_LIMIT_STORAGE = env("RATE_LIMIT_STORAGE", "")
# A call waits in the worker only this long for a slot; longer, the step is rescheduled.
RATE_LIMIT_MAX_WAIT_SECONDS = float(env("RATE_LIMIT_MAX_WAIT_SECONDS", "1"))
# Slots are held this much longer than the app's window, for the jitter between a slot being
# taken and the request arriving (integrations/ratelimit.py).
RATE_LIMIT_MARGIN_SECONDS = float(env("RATE_LIMIT_MARGIN_SECONDS", "0.1"))

__all__ = [
    "RATE_LIMITS",
    "RATE_LIMIT_MARGIN_SECONDS",
    "RATE_LIMIT_MAX_WAIT_SECONDS",
    "RATE_LIMIT_STORAGE",
]
