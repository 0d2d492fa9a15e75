"""Notion: public integration OAuth (Basic auth, JSON body, rotating refresh tokens)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from notion_client import Client
from notion_client.errors import (
    APIErrorCode,
    APIResponseError,
    HTTPResponseError,
    RequestTimeoutError,
)

from integrations import http
from integrations.base import Account, Integration, IntegrationError, OAuthSpec

TIMEOUT_MS = 30_000


def _api(path: str) -> str:
    return settings.NOTION_API_URL.rstrip("/") + path


PERMANENT_MESSAGES = {
    APIErrorCode.ObjectNotFound: (
        "Notion cannot find that page or database. Share it with the hub's integration "
        "in Notion (••• → Connections)."
    ),
    APIErrorCode.RestrictedResource: "The Notion connection may not open that.",
    APIErrorCode.ValidationError: "Notion did not accept the input",
    APIErrorCode.InvalidRequest: "Notion did not accept the request",
    APIErrorCode.InvalidJSON: "Notion did not accept the request",
    APIErrorCode.InvalidRequestURL: "Notion did not accept the request",
}


class NotionIntegration(Integration):
    slug = "notion"
    name = "Notion"
    oauth = OAuthSpec(
        authorize_url=lambda: settings.NOTION_AUTHORIZE_URL,
        token_url=lambda: _api("/v1/oauth/token"),
        env_prefix="NOTION",
        client_auth="basic",
        token_request="json",  # noqa: S106  (a body format)
        extra_authorize_params={"owner": "user"},
        refreshes=True,
        revoke_url=lambda: _api("/v1/oauth/revoke"),
    )

    @property
    def triggers(self):
        from integrations.notion.triggers import TRIGGERS

        return TRIGGERS

    @property
    def actions(self):
        from integrations.notion.catalogue import ACTIONS

        return ACTIONS

    def sdk_client(self, token: str) -> Client:
        return Client(
            auth=token,
            base_url=settings.NOTION_API_URL,
            notion_version=settings.NOTION_VERSION,
            timeout_ms=TIMEOUT_MS,
            # The engine retries 429 and 5xx itself, honouring Retry-After without holding a
            # worker; the client's own retries would sleep in it.
            retry=False,
        )

    def client(self, connection) -> Client:
        return self.sdk_client(connection.fresh_token())

    def account(self, token: Mapping[str, Any]) -> Account:
        owner = (token.get("owner") or {}).get("user") or {}
        # Notion recommends bot_id as the key: one per authorisation of a workspace.
        return Account(
            external_id=str(token.get("bot_id") or token.get("workspace_id") or ""),
            label=token.get("workspace_name") or "Notion",
            details={
                "workspace_id": token.get("workspace_id") or "",
                "workspace_name": token.get("workspace_name") or "",
                "owner_name": owner.get("name") or "",
            },
        )

    def check(self, connection) -> str:
        with self.errors():
            me = self.client(connection).users.me()
        workspace = (me.get("bot") or {}).get("workspace_name") or connection.label
        return _("Connected to the Notion workspace %(name)s.") % {"name": workspace}

    def revoke(self, connection) -> None:
        token = connection.access_token
        if not token:
            return
        creds = connection.client_credentials()
        http.request(
            "POST",
            _api("/v1/oauth/revoke"),
            json={"token": token},
            auth=(creds.client_id, creds.client_secret),
        )

    def map_error(self, exc: Exception) -> IntegrationError | None:
        if isinstance(exc, APIResponseError):
            code = exc.code
            if code == APIErrorCode.Unauthorized:
                return IntegrationError("Notion no longer accepts this connection.", reauth=True)
            if code == APIErrorCode.RateLimited:
                retry = exc.headers.get("retry-after") if exc.headers else None
                return IntegrationError(
                    "Notion is limiting requests; trying again shortly.",
                    retry_after=float(retry) if retry else None,
                )
            if code in PERMANENT_MESSAGES:
                text = PERMANENT_MESSAGES[code]
                if text.startswith("Notion did not accept"):
                    text = f"{text}: {exc}"
                return IntegrationError(text, permanent=True)
            if code == APIErrorCode.ConflictError:
                return IntegrationError("Notion reported a conflict; trying again.")
            return IntegrationError("Notion had a problem; trying again shortly.")
        if isinstance(exc, RequestTimeoutError):
            return IntegrationError("Notion did not answer in time.")
        if isinstance(exc, HTTPResponseError):
            status = getattr(exc, "status", 500)
            if status == 401:
                return IntegrationError("Notion no longer accepts this connection.", reauth=True)
            if status >= 500 or status == 429:
                return IntegrationError("Notion had a problem; trying again shortly.")
            return IntegrationError(f"Notion refused the request (HTTP {status}).", permanent=True)
        if isinstance(exc, httpx.TransportError):
            return IntegrationError("Could not reach Notion.")
        return None
