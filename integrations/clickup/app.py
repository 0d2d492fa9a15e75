"""ClickUp: OAuth with client credentials in the query string; tokens do not expire and
cannot be revoked through the API, so Disconnect only forgets them here."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import requests
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from integrations import http
from integrations.base import Account, Integration, IntegrationError, OAuthSpec

# ECODEs seen when the token itself is no good (OAUTH_017 invalid, OAUTH_025 revoked...).
AUTH_ECODES = {"OAUTH_017", "OAUTH_019", "OAUTH_021", "OAUTH_025", "OAUTH_077"}
# The Workspace was not authorised for this token: reconnect and tick it.
TEAM_ECODES = {"OAUTH_023", "OAUTH_026", "OAUTH_027"}
# The list, task or other item does not exist (or was deleted).
MISSING_ECODES = {"ITEM_013", "ITEM_015"}


def _api(path: str) -> str:
    return settings.CLICKUP_API_URL.rstrip("/") + path


def clickup_error(response: requests.Response, path: str = "") -> IntegrationError:
    """ClickUp's error body: {"err": "...", "ECODE": "..."}. ``path`` is the request's path
    under the API, so a refusal about a list can say so."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    err = str(body.get("err") or "") if isinstance(body, dict) else ""
    ecode = str(body.get("ECODE") or "") if isinstance(body, dict) else ""
    status = response.status_code
    # ClickUp answers 401 for a Workspace the token was not authorised for, too: that one
    # is fixed by reconnecting and ticking the Workspace, not by refreshing.
    if ecode in TEAM_ECODES and path.startswith("list/"):
        # ClickUp answers a list the token cannot reach (or a deleted one) the same way.
        return IntegrationError(
            gettext(
                "This ClickUp list is not authorised for Toolstack, or it was deleted — pick "
                "the list again, or reconnect ClickUp and tick the list's Workspace."
            ),
            permanent=True,
        )
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
        return IntegrationError(
            gettext("ClickUp is limiting requests; trying again shortly."),
            retry_after=retry_after(response.headers),
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
    if ecode == "ITEM_062" or err == "Status not found":
        return IntegrationError(_refusal(ecode), permanent=True)
    return IntegrationError(
        gettext("ClickUp refused the request: %(err)s") % {"err": err or status}, permanent=True
    )


def _refusal(ecode: str) -> str:
    """Words for the refusals a member fixes in the step (ClickUp's own are terse)."""
    if ecode == "ITEM_062":
        return gettext(
            "An assignee is not a member of this ClickUp Workspace — pick members of the "
            "list's Workspace, or invite the person in ClickUp first."
        )
    return gettext(
        "The ClickUp list has no such status — pick one of the list's own statuses, or leave "
        "the status empty for the list's first."
    )


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait after a 429. ClickUp documents ``X-RateLimit-Reset`` (the Unix time
    the window resets), not ``Retry-After``; either is honoured, the reset time first."""
    reset = headers.get("X-RateLimit-Reset")
    if reset:
        try:
            return max(0.0, float(reset) - time.time())
        except ValueError:
            pass
    return http.retry_after_seconds(headers)


class ClickUpClient:
    def __init__(self, token: str, base_url: str | None = None) -> None:
        self.base_url = (base_url or settings.CLICKUP_API_URL).rstrip("/")
        # The token is the whole header, no scheme: what ClickUp's v2 docs show for both
        # personal and OAuth tokens.
        self._headers = {"Authorization": token, "Accept": "application/json"}

    def request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = http.request(
            method,
            f"{self.base_url}/{path.lstrip('/')}",
            headers=self._headers,
            raise_for_status=False,
            **kwargs,
        )
        if response.status_code >= 400:
            raise clickup_error(response, path.lstrip("/"))
        return response.json() if response.content else {}

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        return self.request("GET", path, params=params or None)

    def post(self, path: str, body: Any) -> dict[str, Any]:
        return self.request("POST", path, json=body)

    def put(self, path: str, body: Any) -> dict[str, Any]:
        return self.request("PUT", path, json=body)

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
        return ClickUpClient(connection.fresh_token())

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
