"""One way to call Notion from a page action: a page id or a pasted link becomes the id, and
Notion's error codes become IntegrationError in words a member can act on."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.utils.translation import gettext as _
from notion_client.errors import APIErrorCode, APIResponseError

from integrations.base import Context, IntegrationError

_HEX_ID = re.compile(r"([0-9a-fA-F]{32})$")
# Where a validation message names a property: "body.properties.Points.number should be…"
_PROPERTY = re.compile(r"properties\.([^.\s]+)\.")
_DASHED_ID = re.compile(r"([0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12})$")


def page_id(value: Any) -> str:
    """The dashed id of a page given as an id (with or without dashes) or a Notion link such
    as ``https://www.notion.so/acme/Meeting-notes-1f0d…?pvs=4`` (the id ends the last path
    segment; a ``#…`` block anchor and the query are ignored)."""
    text = str(value or "").strip()
    candidate = text
    if "://" in text or text.startswith(("www.", "notion.so/")):
        path = urlsplit(text if "://" in text else f"https://{text}").path
        candidate = path.rstrip("/").rsplit("/", 1)[-1]
    found = _HEX_ID.search(candidate) or _DASHED_ID.search(candidate)
    if not found:
        raise IntegrationError(
            _(
                "“%(page)s” is not a Notion page link or id. In Notion, open the page, choose "
                "⋯ → Copy link, and paste that link here."
            )
            % {"page": text or "?"},
            permanent=True,
        )
    return str(uuid.UUID(found.group(1).replace("-", "")))


def not_shared() -> str:
    return _(
        "The Notion page isn't shared with Toolstack — open it in Notion, ⋯ → Connections, "
        "add Toolstack."
    )


def _message(exc: APIResponseError) -> str | None:
    if exc.code == APIErrorCode.ObjectNotFound:
        return not_shared()
    if exc.code == APIErrorCode.RestrictedResource:
        return _(
            "Toolstack may not do that on this Notion page — ask someone with full access to "
            "it to check its connections (⋯ → Connections) and your Notion plan."
        )
    if exc.code == APIErrorCode.ValidationError:
        named = _PROPERTY.search(str(exc))
        if named:
            return _("Notion did not accept the value of “%(name)s”: %(reason)s") % {
                "name": named.group(1),
                "reason": str(exc),
            }
        return _("Notion did not accept the request: %(reason)s") % {"reason": str(exc)}
    return None


def call(ctx: Context, method: Callable[..., Any], **params: Any) -> Any:
    """``method(**params)`` on the SDK client. Rate limits, expired tokens and passing
    faults go through the integration's own mapping (retry, reconnect)."""
    with ctx.integration.errors():
        try:
            return method(**params)
        except APIResponseError as exc:
            text = _message(exc)
            if text is not None:
                raise IntegrationError(text, permanent=True) from None
            raise
