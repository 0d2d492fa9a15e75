"""Slack: "Add to Slack" (OAuth v2 bot install, PKCE, optional token rotation)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from integrations import ratelimit
from integrations.base import Account, Integration, IntegrationError, OAuthSpec

TIMEOUT_SECONDS = 30

BOT_SCOPES = (
    "chat:write",
    "channels:read",
    "groups:read",
    "channels:history",
    "groups:history",
    "users:read",
    "users:read.email",
    "im:write",
    "reactions:write",
    # The events the triggers subscribe to: app_mention and reaction_added.
    "app_mentions:read",
    "reactions:read",
)

# Codes meaning the token is no good any more.
AUTH_ERRORS = frozenset(
    {"not_authed", "invalid_auth", "account_inactive", "token_revoked", "token_expired"}
)
# Codes a member can fix by changing the step, with words they understand.
PERMANENT_ERRORS: dict[str, str] = {
    "channel_not_found": "Slack cannot find that channel, or the hub's bot is not in it.",
    "not_in_channel": "The hub's bot is not in that channel. Invite it there first.",
    "is_archived": "That channel is archived.",
    "msg_too_long": "The message is too long for Slack.",
    "no_text": "The message is empty.",
    "missing_scope": "The Slack connection lacks a permission this needs. Reconnect it.",
    "users_not_found": "No Slack user has that email address.",
    "invalid_blocks": "Slack did not accept the message layout.",
    "restricted_action": "A Slack workspace setting prevents this.",
}


def _api_url(method: str) -> str:
    base = settings.SLACK_API_URL
    return base + ("" if base.endswith("/") else "/") + method


class LimitedWebClient(WebClient):
    """slack-sdk's client, taking a slot of the method's tier (or, for chat.postMessage, of
    the channel) before each Web API request; method calls and the SDK's own paging both
    send through ``_perform_urllib_http_request``."""

    def __init__(self, *args: Any, limiter: ratelimit.Limiter | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.limiter = limiter

    def _perform_urllib_http_request(self, *, url: str, args: dict) -> dict:
        if self.limiter is not None:
            method = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
            body = args.get("json") or args.get("data") or args.get("params")
            bucket, scope = ratelimit.slack_bucket(method, body if isinstance(body, dict) else {})
            self.limiter.acquire(bucket, scope=scope)
        return super()._perform_urllib_http_request(url=url, args=args)


class SlackIntegration(Integration):
    slug = "slack"
    name = "Slack"
    oauth = OAuthSpec(
        authorize_url=lambda: settings.SLACK_AUTHORIZE_URL,
        token_url=lambda: _api_url("oauth.v2.access"),
        env_prefix="SLACK",
        scopes=BOT_SCOPES,
        scope_separator=",",
        client_auth="basic",
        pkce=True,
        # Only when token rotation is turned on for the Slack app; else tokens never expire.
        refreshes=True,
        revoke_url=lambda: _api_url("auth.revoke"),
    )

    @property
    def actions(self):
        from integrations.slack.catalogue import ACTIONS

        return ACTIONS

    @property
    def triggers(self):
        from integrations.slack.triggers import TRIGGERS

        return TRIGGERS

    def web_client(self, token: str, limiter: ratelimit.Limiter | None = None) -> WebClient:
        # No retry handlers beyond the default connection-error one: a 429 comes back to the
        # engine as retry_after instead of sleeping inside a worker.
        return LimitedWebClient(
            token=token, base_url=settings.SLACK_API_URL, timeout=TIMEOUT_SECONDS, limiter=limiter
        )

    def client(self, connection) -> WebClient:
        return self.web_client(connection.fresh_token(), ratelimit.for_connection(self, connection))

    def account(self, token: Mapping[str, Any]) -> Account:
        team = token.get("team") or {}
        enterprise = token.get("enterprise") or {}
        team_id = team.get("id") or enterprise.get("id") or ""
        return Account(
            external_id=team_id,
            label=team.get("name") or enterprise.get("name") or "Slack",
            details={
                "team_id": team_id,
                "team_name": team.get("name") or "",
                "bot_user_id": token.get("bot_user_id") or "",
                "app_id": token.get("app_id") or "",
            },
        )

    def check(self, connection) -> str:
        with self.errors():
            answer = self.client(connection).auth_test()
        return _("Connected to %(team)s as %(user)s.") % {
            "team": answer.get("team"),
            "user": answer.get("user"),
        }

    def revoke(self, connection) -> None:
        token = connection.access_token
        if not token:
            return
        with self.errors():
            self.web_client(token).auth_revoke()

    def map_error(self, exc: Exception) -> IntegrationError | None:
        if isinstance(exc, SlackApiError):
            response = exc.response
            code = ""
            if isinstance(response.data, dict):
                code = str(response.data.get("error") or "")
            if response.status_code == 429 or code in ("ratelimited", "rate_limited"):
                retry = response.headers.get("Retry-After") or response.headers.get("retry-after")
                return IntegrationError(
                    "Slack is limiting requests; trying again shortly.",
                    retry_after=float(retry) if retry else None,
                )
            if code in AUTH_ERRORS:
                return IntegrationError(
                    f"Slack no longer accepts this connection ({code}).", reauth=True
                )
            if code in PERMANENT_ERRORS:
                return IntegrationError(PERMANENT_ERRORS[code], permanent=True)
            if response.status_code >= 500 or code in ("internal_error", "fatal_error"):
                return IntegrationError("Slack had a problem; trying again shortly.")
            return IntegrationError(
                f"Slack refused the request ({code or 'unknown'}).", permanent=True
            )
        if isinstance(exc, SlackClientError | OSError):
            return IntegrationError("Could not reach Slack.")
        return None
