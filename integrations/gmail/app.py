"""Gmail over Google OAuth (offline access, forced consent, PKCE) and a small REST client."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import requests
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from integrations import http, ratelimit
from integrations.base import Account, Integration, IntegrationError, OAuthSpec

SCOPES = ("https://www.googleapis.com/auth/gmail.modify",)
RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "backendError"}
# Gmail's 400 for an address it cannot parse: "Invalid To header", "Invalid Cc header", …
RECIPIENT = ("header", "recipient")


def gmail_error(response: requests.Response) -> IntegrationError:
    """Google's error body: {"error": {"code", "message", "errors": [{"reason", ...}]}}."""
    reason, message = "", ""
    try:
        error = response.json().get("error") or {}
        message = error.get("message") or ""
        reason = ((error.get("errors") or [{}])[0]).get("reason") or ""
    except (ValueError, AttributeError):
        pass
    status = response.status_code
    if status == 401:
        return IntegrationError("Google no longer accepts this connection.", reauth=True)
    if status == 429 or reason in RATE_REASONS or status >= 500:
        return IntegrationError(
            "Gmail is busy or limiting requests; trying again shortly.",
            retry_after=http.retry_after_seconds(response.headers),
        )
    if reason == "dailyLimitExceeded":
        return IntegrationError("Gmail's daily limit for this account is used up.", permanent=True)
    if status == 400 and any(word in message.lower() for word in RECIPIENT):
        return IntegrationError(
            gettext(
                "Gmail refused a recipient (%(detail)s): check To, Cc, Bcc and Reply-to — "
                "each must be a full address such as name@example.com, separated by commas."
            )
            % {"detail": message},
            permanent=True,
        )
    if status == 400 and message.lower().startswith("invalid id"):
        return IntegrationError(
            gettext(
                "That is not a Gmail message ID. Map the ID output of the Gmail trigger or "
                "of an earlier Gmail step into this field."
            ),
            permanent=True,
        )
    if status == 403 and reason == "insufficientPermissions":
        return IntegrationError(
            gettext(
                "This Gmail connection was not allowed to do this. Reconnect Gmail on the "
                "Connections page and tick every permission Google asks for."
            ),
            permanent=True,
        )
    if status == 404:
        return IntegrationError(
            gettext(
                "Gmail cannot find that message or label: it may have been deleted, or it "
                "belongs to another mailbox than this connection's."
            ),
            permanent=True,
        )
    return IntegrationError(f"Gmail refused the request: {message or status}", permanent=True)


class GmailClient:
    """The slice of the Gmail REST API the hub uses, bound to one access token."""

    def __init__(
        self, token: str, base_url: str | None = None, limiter: ratelimit.Limiter | None = None
    ) -> None:
        self.base_url = (base_url or settings.GMAIL_API_URL).rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self.limiter = limiter

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        if self.limiter is not None:
            # Gmail's limit is in quota units per user: a send costs 100, a read 5.
            self.limiter.acquire("gmail", cost=ratelimit.gmail_units(method, path))
        return http.request(
            method,
            f"{self.base_url}/users/me/{path.lstrip('/')}",
            headers=self._headers,
            raise_for_status=False,
            **kwargs,
        )

    def request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self._send(method, path, **kwargs)
        if response.status_code >= 400:
            raise gmail_error(response)
        return response.json() if response.content else {}

    def history(self, **params: Any) -> dict[str, Any] | None:
        """users.history.list; None when Gmail no longer has the startHistoryId (its 404:
        history is kept for about a week), so the caller resyncs."""
        response = self._send("GET", "history", params=params)
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise gmail_error(response)
        return response.json()

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        return self.request("GET", path, params=params or None)

    def post(self, path: str, body: Any) -> dict[str, Any]:
        return self.request("POST", path, json=body)

    def profile(self) -> dict[str, Any]:
        return self.get("profile")

    def send(self, raw: str, thread_id: str | None = None) -> dict[str, Any]:
        body = {"raw": raw, **({"threadId": thread_id} if thread_id else {})}
        return self.post("messages/send", body)

    def create_draft(self, raw: str, thread_id: str | None = None) -> dict[str, Any]:
        message = {"raw": raw, **({"threadId": thread_id} if thread_id else {})}
        return self.post("drafts", {"message": message})

    def message(self, message_id: str, fmt: str = "full", headers: tuple[str, ...] = ()) -> dict:
        params: dict[str, Any] = {"format": fmt}
        if headers:
            params["metadataHeaders"] = list(headers)
        return self.get(f"messages/{quote(str(message_id), safe='')}", **params)

    def list_messages(self, query: str, max_results: int, page_token: str | None = None) -> dict:
        params: dict[str, Any] = {"maxResults": max_results}
        if query:
            params["q"] = query
        if page_token:
            params["pageToken"] = page_token
        return self.get("messages", **params)


class GmailIntegration(Integration):
    slug = "gmail"
    name = "Gmail"
    oauth = OAuthSpec(
        authorize_url=lambda: settings.GOOGLE_AUTHORIZE_URL,
        token_url=lambda: settings.GOOGLE_TOKEN_URL,
        env_prefix="GOOGLE",
        scopes=SCOPES,
        client_auth="body",
        # offline: a refresh token; consent: Google issues it again on every reconnect.
        extra_authorize_params={
            "access_type": "offline",
            "prompt": "consent",
            "include_granted_scopes": "true",
        },
        pkce=True,
        refreshes=True,
        revoke_url=lambda: settings.GOOGLE_REVOKE_URL,
    )

    @property
    def actions(self):
        from integrations.gmail.actions import ACTIONS

        return ACTIONS

    @property
    def triggers(self):
        from integrations.gmail.triggers import TRIGGERS

        return TRIGGERS

    def client(self, connection) -> GmailClient:
        return GmailClient(
            connection.fresh_token(), limiter=ratelimit.for_connection(self, connection)
        )

    def account(self, token: Mapping[str, Any]) -> Account:
        # The token answer has no address without the openid scope: ask Gmail itself.
        profile = GmailClient(str(token["access_token"])).profile()
        address = profile.get("emailAddress") or ""
        return Account(external_id=address.lower(), label=address, details={"email": address})

    def check(self, connection) -> str:
        profile = self.client(connection).profile()
        return _("Connected to the mailbox %(email)s.") % {"email": profile.get("emailAddress")}

    def revoke(self, connection) -> None:
        # Revoking the refresh token ends the whole grant, access tokens included.
        token = connection.refresh_token or connection.access_token
        if not token:
            return
        response = http.request(
            "POST",
            settings.GOOGLE_REVOKE_URL,
            data={"token": token},
            raise_for_status=False,
        )
        # 400 invalid_token: already revoked or expired, which is what we wanted.
        if response.status_code >= 500:
            raise IntegrationError("Google could not revoke access just now.")

    def map_error(self, exc: Exception) -> IntegrationError | None:
        return None
