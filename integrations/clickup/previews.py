"""The request a ClickUp write would send, for the editor's "Test step": built by the same
functions the actions call, so the preview and the call cannot drift."""

from __future__ import annotations

from typing import Any

from django.conf import settings


def request(method: str, path: str, body: Any) -> dict[str, Any]:
    # The token goes in the Authorization header, which a preview leaves out.
    return {
        "method": method,
        "url": f"{settings.CLICKUP_API_URL.rstrip('/')}/{path}",
        "headers": {"Content-Type": "application/json"},
        "body": body,
    }


def several(requests: list[dict[str, Any]]) -> dict[str, Any]:
    """Several requests in order: the first at the top, every one under ``requests``."""
    return {**requests[0], "requests": requests}
