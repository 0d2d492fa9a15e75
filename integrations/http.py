"""The one seam for outbound HTTP calls of our own (the SDKs make theirs).

Every call gets a timeout and our user agent, is logged without secrets, and turns a failed
response into an ``IntegrationError`` whose flags say whether to retry, fail or reconnect.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import requests

from integrations.base import IntegrationError
from integrations.scrubbing import scrub

log = logging.getLogger("hub.http")

USER_AGENT = "ToolstackHub/0.1 (+self-hosted)"
DEFAULT_TIMEOUT = (5.0, 30.0)

_session = requests.Session()
_session.headers["User-Agent"] = USER_AGENT


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def error_for(response: requests.Response, message: str | None = None) -> IntegrationError:
    """Classify a failed response by its status code alone; callers add the app's words."""
    status = response.status_code
    text = message or f"The app answered HTTP {status}."
    if status == 429:
        return IntegrationError(text, retry_after=retry_after_seconds(response.headers))
    if status in (401,):
        return IntegrationError(text, reauth=True)
    if status >= 500 or status in (408, 409, 425):
        return IntegrationError(text, retry_after=retry_after_seconds(response.headers))
    return IntegrationError(text, permanent=True)


def request(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, Any] | None = None,
    json: Any = None,
    data: Any = None,
    auth: Any = None,
    timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
    raise_for_status: bool = True,
    session: requests.Session | None = None,
    **kwargs: Any,
) -> requests.Response:
    """Send one request. ``session`` replaces the shared one for callers that need their own
    transport (the HTTP-request step pins each connection to an address it has checked)."""
    started = time.monotonic()
    try:
        response = (session or _session).request(
            method,
            url,
            headers=headers,
            params=params,
            json=json,
            data=data,
            auth=auth,
            timeout=timeout,
            **kwargs,
        )
    except requests.Timeout:
        log.warning("%s %s timed out", method, scrub(url))
        raise IntegrationError("The app did not answer in time.") from None
    except requests.ConnectionError:
        log.warning("%s %s could not connect", method, scrub(url))
        raise IntegrationError("Could not reach the app.") from None
    elapsed_ms = (time.monotonic() - started) * 1000
    log.info("%s %s -> %s in %.0f ms", method, scrub(url), response.status_code, elapsed_ms)
    if raise_for_status and response.status_code >= 400:
        raise error_for(response)
    return response
