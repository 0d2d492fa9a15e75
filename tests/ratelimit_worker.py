"""A process of its own taking rate-limit slots (tests/test_ratelimit.py). Started with
"spawn", not "fork": a forked child inherits the parent's open broker connections, and
kombu's after-fork cleanup then waits on a Redis reply that never comes."""

from __future__ import annotations

import time


def take_slots(storage_url: str, count: int, out) -> None:
    import django

    django.setup()
    from django.conf import settings

    from integrations.base import IntegrationError
    from integrations.ratelimit import Limiter

    settings.RATE_LIMIT_STORAGE = storage_url
    settings.RATE_LIMITS = {"notion": "3/second"}
    limiter = Limiter("notion", "shared", "Notion")
    for _ in range(count):
        while True:
            try:
                limiter.acquire("notion")
                break
            except IntegrationError as busy:  # the engine would retry the step then
                time.sleep(busy.retry_after)
        out.put(time.time())
