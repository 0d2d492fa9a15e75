"""ClickUp: OAuth with client credentials in the query string; tokens do not expire and
cannot be revoked through the API, so Disconnect only forgets them here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from integrations import http, ratelimit
from integrations.base import Account, Integration, IntegrationError, OAuthSpec

# ECODEs seen when the token itself is no good (OAUTH_017 invalid, OAUTH_025 revoked...).
AUTH_ECODES = {"OAUTH_017", "OAUTH_019", "OAUTH_021", "OAUTH_025", "OAUTH_077"}
# The Workspace was not authorised for this token: reconnect and tick it.
TEAM_ECODES = {"OAUTH_023", "OAUTH_026", "OAUTH_027"}
# The list, task or other item does not exist (or was deleted).
MISSING_ECODES = {"ITEM_013", "ITEM_015"}


def _api(path: str) -> str:
    return settings.CLICKUP_API_URL.rstrip("/") + path


def clickup_error(response: requests.Response) -> IntegrationError:
    """ClickUp's error body: {"err": "...", "ECODE": "..."}."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    err = str(body.get("err") or "") if isinstance(body, dict) else ""
    ecode = str(body.get("ECODE") or "") if isinstance(body, dict) else ""
    status = response.status_code
    # ClickUp answers 401 for a Workspace the token was not authorised for, too: that one
    # is fixed by reconnecting and ticking the Workspace, not by refreshing.
    if ecode in TEAM_ECODES:
        return IntegrationError(
            gettext(
                "This ClickUp Workspace is not authorised for Toolstack — reconnect ClickUp "
                "and tick it."
            ),
            permanent=True,
        )
    if status == 401 or ecode in AUTH_ECODES:
        return IntegrationError(gettext("ClickUp no longer accepts this connection."), reauth=True)
    if status == 429:
        retry = http.retry_after_seconds(response.headers)
        reset = response.headers.get("X-RateLimit-Reset")
        if retry is None and reset:
            import time

            try:
                retry = max(0.0, float(reset) - time.time())
            except ValueError:
                retry = None
        return IntegrationError(
            gettext("ClickUp is limiting requests; trying again shortly."), retry_after=retry
        )
    if status >= 500:
        return IntegrationError(gettext("ClickUp had a problem; trying again shortly."))
    if status == 404 or ecode in MISSING_ECODES:
        return IntegrationError(
            gettext(
                "ClickUp cannot find that list or task (%(err)s). Pick it again, or check "
                "that it was not deleted."
            )
            % {"err": err or status},
            permanent=True,
        )
    return IntegrationError(
        gettext("ClickUp refused the request: %(err)s") % {"err": err or status}, permanent=True
    )


class ClickUpClient:
    def __init__(
        self, token: str, base_url: str | None = None, limiter: ratelimit.Limiter | None = None
    ) -> None:
        self.limiter = limiter
        self.base_url = (base_url or settings.CLICKUP_API_URL).rstrip("/")
        # The token is the whole header, no scheme: what ClickUp's v2 docs show for both
        # personal and OAuth tokens.
        self._headers = {"Authorization": token, "Accept": "application/json"}

    def request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        if self.limiter is not None:
            self.limiter.acquire("clickup")
        response = http.request(
            method,
            f"{self.base_url}/{path.lstrip('/')}",
            headers=self._headers,
            raise_for_status=False,
            **kwargs,
        )
        if self.limiter is not None:
            # The token's plan sets its limit (100, 1,000 or 10,000 a minute): follow it.
            self.limiter.report("clickup", ratelimit.clickup_rates(response.headers))
        if response.status_code >= 400:
            raise clickup_error(response)
        return response.json() if response.content else {}

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        return self.request("GET", path, params=params or None)

    def post(self, path: str, body: Any) -> dict[str, Any]:
        return self.request("POST", path, json=body)

    def user(self) -> dict[str, Any]:
        return self.get("user").get("user") or {}

    def teams(self) -> list[dict[str, Any]]:
        return self.get("team").get("teams") or []


class ClickUpIntegration(Integration):
    slug = "clickup"
    name = "ClickUp"
    oauth = OAuthSpec(
        authorize_url=lambda: settings.CLICKUP_AUTHORIZE_URL,
        token_url=lambda: _api("/oauth/token"),
        env_prefix="CLICKUP",
        client_auth="query",
        refreshes=False,
        revoke_url=None,
    )

    @property
    def actions(self):
        from integrations.clickup.catalogue import ACTIONS

        return ACTIONS

    def client(self, connection) -> ClickUpClient:
        return ClickUpClient(
            connection.fresh_token(), limiter=ratelimit.for_connection(self, connection)
        )

    def account(self, token: Mapping[str, Any]) -> Account:
        client = ClickUpClient(str(token["access_token"]))
        user = client.user()
        teams = client.teams()
        name = user.get("username") or user.get("email") or "ClickUp"
        return Account(
            external_id=str(user.get("id") or ""),
            label=name,
            details={
                "user_name": name,
                "email": user.get("email") or "",
                "workspaces": [{"id": str(t.get("id")), "name": t.get("name")} for t in teams],
            },
        )

    def check(self, connection) -> str:
        user = self.client(connection).user()
        return _("Connected as %(name)s.") % {"name": user.get("username") or user.get("email")}

    def revoke(self, connection) -> None:
        """ClickUp has no revocation endpoint: the user removes the app in ClickUp."""
