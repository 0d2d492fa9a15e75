"""Per-connection rate limits, shared by every worker process, sized to each app's published
limits (``settings.RATE_LIMITS``, in the ``limits`` library's notation: "3/second").

One seam for every app: each app's client asks ``for_connection(slug, connection)`` for a
``Limiter`` and calls ``acquire(bucket)`` before each request (the Notion client through an
httpx request hook, Slack's WebClient in ``api_call``, the Gmail and ClickUp clients in their
``request``). The windows are moving windows of the ``limits`` library in a storage every
worker sees: Redis when the broker is Redis, else files under ``HUB_VAR_DIR``
(``integrations/ratelimit_files.py`` says why).

A call over the limit waits here only when its slot frees within
``RATE_LIMIT_MAX_WAIT_SECONDS`` (one second); otherwise it raises
``IntegrationError(retry_after=…)`` and the engine reschedules the step as it does a 429,
without holding the worker. A slot counts as taken for ``RATE_LIMIT_MARGIN_SECONDS`` longer
than the app's window: a request reaches the app a few milliseconds after its slot was taken,
and not always the same few, so without the margin four requests could land inside the app's
one second although the limiter let three through per second.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from django.utils.translation import gettext
from limits import RateLimitItem, parse_many
from limits.storage import RedisStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from integrations import ratelimit_files  # noqa: F401  (registers the file:// storage)
from integrations.base import IntegrationError

log = logging.getLogger("hub.ratelimit")

# Slack's published tier of each Web API method the hub calls; chat.postMessage has its own
# rule (about one message a second per channel), kept per channel. Unknown methods: Tier 3.
SLACK_TIERS = {
    "auth.test": "slack.tier4",
    "auth.revoke": "slack.tier3",
    "chat.update": "slack.tier3",
    "conversations.history": "slack.tier3",
    "conversations.info": "slack.tier3",
    "conversations.list": "slack.tier2",
    "conversations.open": "slack.tier3",
    "reactions.add": "slack.tier3",
    "users.info": "slack.tier4",
    "users.list": "slack.tier2",
    "users.lookupByEmail": "slack.tier3",
}

# Gmail quota units per method (API-NOTES, Gmail's usage limits), by (HTTP method, path).
GMAIL_UNITS = {
    ("POST", "messages/send"): 100,
    ("POST", "drafts"): 10,
    ("GET", "history"): 2,
    ("GET", "labels"): 1,
    ("POST", "labels"): 5,
    ("GET", "profile"): 1,
}


def storage_url() -> str:
    if settings.RATE_LIMIT_STORAGE:
        return settings.RATE_LIMIT_STORAGE
    broker = settings.CELERY_BROKER_URL or ""
    if broker.startswith(("redis://", "rediss://")):
        return broker
    return f"file://{settings.VAR_DIR / 'ratelimit'}"


SLEEP_SLACK = 0.05

# Limits an app reported for a connection, by (bucket, connection id): per process.
_reported: dict[tuple[str, str], str] = {}


@cache
def _strategy(url: str) -> MovingWindowRateLimiter:
    return MovingWindowRateLimiter(storage_from_string(url))


@cache
def _items(rates: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(rates))


def rates_for(bucket: str) -> str:
    configured: Mapping[str, str] = settings.RATE_LIMITS
    return configured.get(bucket) or configured.get(bucket.split(".", 1)[0]) or ""


@dataclass(frozen=True)
class Limiter:
    """The budget of one connection of one app."""

    app: str
    connection_id: str
    # The app's name as members know it, for the message when a step must wait longer.
    app_name: str = ""

    def report(self, bucket: str, rates: str | None) -> None:
        """The app said what this connection's limit is (ClickUp's ``X-RateLimit-Limit``):
        use it instead of the configured one from now on, in this process."""
        if rates:
            _reported[(bucket, self.connection_id)] = rates

    def acquire(
        self, bucket: str, *, scope: str = "", cost: int = 1, rates: str | None = None
    ) -> float:
        """Take ``cost`` from every limit of ``bucket`` (``scope``: a finer key such as a Slack
        channel). Waits up to the setting's short wait, else raises IntegrationError with
        ``retry_after``. Returns the seconds slept waiting."""
        reported = _reported.get((bucket, self.connection_id))
        items = _items(rates or reported or rates_for(bucket))
        if not items:
            return 0.0
        strategy = _strategy(storage_url())
        ids = (bucket, self.connection_id, scope)
        started = time.monotonic()
        slept = 0.0
        # The margin is ours, not the app's: a wait of one window plus it still counts as
        # short (two posts to one Slack channel wait here, not in the queue); SLEEP_SLACK
        # covers a sleep that ends a little late.
        deadline = (
            started
            + settings.RATE_LIMIT_MAX_WAIT_SECONDS
            + settings.RATE_LIMIT_MARGIN_SECONDS
            + SLEEP_SLACK
        )
        try:
            while True:
                wait = self._wait(strategy, items, ids, cost)
                if wait <= 0:
                    if all(_take(strategy.storage, item, ids, cost) for item in items):
                        if slept:
                            log.debug("%s %s waited %.3f s", bucket, self.connection_id, slept)
                        return slept
                    wait = 0.01  # another process took the slot first: look again soon
                if time.monotonic() + wait > deadline:
                    raise IntegrationError(
                        gettext(
                            "The hub is keeping this connection within %(app)s's rate limit; the "
                            "step continues in a moment."
                        )
                        % {"app": self.app_name or self.app},
                        retry_after=round(wait, 3),
                        throttled=True,
                    )
                time.sleep(wait)
                slept += wait
        except storage_errors(strategy.storage) as exc:
            # The store of the windows (the broker's Redis) is away, as when it restarts: an
            # attempt like any app error, retried with the backoff, never a failed run.
            raise IntegrationError(
                gettext(
                    "The hub could not reach the store of its rate limits; the step is tried "
                    "again shortly."
                )
            ) from exc

    @staticmethod
    def _wait(strategy, items, ids, cost: int) -> float:
        """Seconds until every limit has room for ``cost``, the margin included (0: now)."""
        margin = settings.RATE_LIMIT_MARGIN_SECONDS
        now = time.time()
        wait = 0.0
        for item in items:
            window = item.get_expiry() + margin
            start, count = strategy.storage.get_moving_window(
                item.key_for(*ids), item.amount, window
            )
            if count + cost > item.amount:
                wait = max(wait, start + window - now)
        return wait


def storage_errors(storage) -> tuple[type[Exception], ...]:
    """What the rate limits' store raises when it cannot be reached."""
    base = storage.base_exceptions
    return (OSError, *(base if isinstance(base, tuple) else (base,)))


# limits' own moving-window script for Redis, with one change: the window may be a fraction
# of a second longer than the limit's whole seconds (the margin), so EXPIRE gets it rounded up.
_PADDED_ACQUIRE = """
local timestamp = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local amount = tonumber(ARGV[4])
if amount > limit then
    return false
end
local entry = redis.call('lindex', KEYS[1], limit - amount)
if entry and tonumber(entry) >= timestamp - window then
    return false
end
for i = 1, amount do
    redis.call('lpush', KEYS[1], ARGV[1])
end
redis.call('ltrim', KEYS[1], 0, limit - 1)
redis.call('expire', KEYS[1], math.ceil(window))
return true
"""


@cache
def _padded_script(storage: RedisStorage):
    return storage.get_connection().register_script(_PADDED_ACQUIRE)


def _take(storage, item: RateLimitItem, ids: tuple[str, ...], cost: int) -> bool:
    """Take ``cost`` slots in one atomic step, counting the window with the margin: two
    processes that both saw room cannot both get the last slot, nor a slot that frees only
    within the margin."""
    key = item.key_for(*ids)
    window = item.get_expiry() + settings.RATE_LIMIT_MARGIN_SECONDS
    if isinstance(storage, RedisStorage):
        taken = _padded_script(storage)(
            [storage.prefixed_key(key)], [repr(time.time()), item.amount, window, cost]
        )
        return bool(taken)
    # The file and memory storages take a window of any length as it is.
    return storage.acquire_entry(key, item.amount, window, amount=cost)


def for_connection(integration: Any, connection: Any) -> Limiter | None:
    """The limiter of a stored connection; None for one without an id (an OAuth exchange
    labelling a connection not saved yet)."""
    pk = getattr(connection, "pk", None)
    if pk is None:
        return None
    return Limiter(integration.slug, str(pk), str(integration.name or integration.slug))


# -- each app's seam ---------------------------------------------------------------------


def httpx_hook(limiter: Limiter, bucket: str):
    """An httpx ``request`` event hook taking a slot before each request leaves."""

    def before(request) -> None:
        limiter.acquire(bucket)

    return before


def slack_bucket(method: str, params: Mapping[str, Any] | None) -> tuple[str, str]:
    """(bucket, scope) of a Slack Web API method: its tier, or per channel for postMessage."""
    if method == "chat.postMessage":
        return "slack.chat.postMessage", str((params or {}).get("channel") or "")
    return SLACK_TIERS.get(method, "slack.tier3"), ""


def gmail_units(method: str, path: str) -> int:
    path = path.strip("/")
    if (method, path) in GMAIL_UNITS:
        return GMAIL_UNITS[(method, path)]
    return 5  # messages.list/get/modify, labels.update, threads.*: 5 units each


def clickup_rates(headers: Mapping[str, str]) -> str | None:
    """The per-minute limit ClickUp reported for this token (``X-RateLimit-Limit``: 100,
    1,000 or 10,000 by plan), in the limits notation; None when it did not say."""
    value = headers.get("X-RateLimit-Limit")
    try:
        per_minute = int(value) if value else 0
    except ValueError:
        return None
    return f"{per_minute}/minute" if per_minute > 0 else None
