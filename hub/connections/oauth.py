"""The OAuth 2 mechanics shared by every app: client credentials, the authorize URL with
``state`` and PKCE, and the token endpoint (code exchange and refresh).

Each app's quirks live in its ``OAuthSpec`` (how the client authenticates, form or JSON body,
scope separator, extra authorize parameters); nothing here names an app.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse

from hub.connections.oauth_apps import OAuthApp
from integrations import http
from integrations.base import Integration, IntegrationError, TokenSet

# Token-endpoint answers that mean the grant is gone for good: reconnecting is the only fix.
DEAD_GRANT_ERRORS = frozenset(
    {
        "invalid_grant",
        "invalid_refresh_token",  # Slack
        "token_revoked",
        "token_expired",
        "unauthorized_client",
        "invalid_client",
        "invalid_client_id",
        "bad_client_secret",
        "access_denied",
    }
)

SESSION_PREFIX = "oauth_flow:"
FLOW_TTL_SECONDS = 15 * 60


class NotConfigured(Exception):
    """The app has no client id and secret yet."""


class TokenError(Exception):
    """The token endpoint refused. ``code`` is the app's error code, never a secret."""

    def __init__(self, code: str, *, transient: bool = False) -> None:
        super().__init__(code)
        self.code = code
        self.transient = transient

    @property
    def grant_dead(self) -> bool:
        return not self.transient and self.code in DEAD_GRANT_ERRORS


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str
    # Kept out of repr: Django's template debug log prints whole contexts.
    client_secret: str = field(repr=False)
    # "environment", "workspace" or "deployment": where they came from, for the setup page.
    source: str


def env_credentials(integration: Integration) -> ClientCredentials | None:
    spec = integration.oauth
    if spec is None:
        return None
    env = settings.OAUTH_CLIENTS.get(spec.env_prefix) or {}
    if env.get("client_id") and env.get("client_secret"):
        return ClientCredentials(env["client_id"], env["client_secret"], "environment")
    return None


def client_credentials(integration: Integration, workspace) -> ClientCredentials:
    """The environment wins; then this workspace's OAuth app; then a deployment-wide one."""
    found = env_credentials(integration)
    if found:
        return found
    apps = OAuthApp.objects.filter(integration=integration.slug)
    for candidate, source in (
        (apps.filter(workspace=workspace).first(), "workspace"),
        (apps.filter(workspace=None).first(), "deployment"),
    ):
        if candidate and candidate.client_id and candidate.client_secret:
            return ClientCredentials(candidate.client_id, candidate.client_secret, source)
    raise NotConfigured(f"{integration.name} has no OAuth client id and secret yet.")


def redirect_uri(integration: Integration) -> str:
    """The exact URL to register in the app's developer console."""
    return settings.HUB_BASE_URL + reverse("connection_callback", args=[integration.slug])


def _pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)[:96]
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def begin(session, integration: Integration, workspace, user, reconnect_id: int | None) -> str:
    """Remember a new flow in the session and return the app's authorize URL."""
    spec = integration.oauth
    creds = client_credentials(integration, workspace)
    state = secrets.token_urlsafe(32)
    flow: dict[str, Any] = {
        "integration": integration.slug,
        "workspace_id": workspace.pk,
        "user_id": user.pk,
        "reconnect_id": reconnect_id,
        "created": time.time(),
    }
    params: dict[str, str] = {
        "client_id": creds.client_id,
        "redirect_uri": redirect_uri(integration),
        "response_type": "code",
        "state": state,
    }
    if spec.scopes:
        params[spec.scope_param] = spec.scope_separator.join(spec.scopes)
    params.update(spec.extra_authorize_params)
    if spec.pkce:
        verifier, challenge = _pkce_pair()
        flow["verifier"] = verifier
        params["code_challenge"] = challenge
        params["code_challenge_method"] = "S256"
    session[SESSION_PREFIX + state] = flow
    _prune(session)
    url = spec.authorize_url()
    return url + ("&" if "?" in url else "?") + urlencode(params)


def take_flow(session, state: str | None) -> dict[str, Any] | None:
    """The flow for ``state``, removed from the session so it works once."""
    if not state:
        return None
    flow = session.pop(SESSION_PREFIX + state, None)
    if not flow or time.time() - flow.get("created", 0) > FLOW_TTL_SECONDS:
        return None
    return flow


def _prune(session) -> None:
    now = time.time()
    # Sessions are not iterable, hence .keys().
    for key in [k for k in session.keys() if k.startswith(SESSION_PREFIX)]:  # noqa: SIM118
        if now - session[key].get("created", 0) > FLOW_TTL_SECONDS:
            del session[key]


def token_request(
    integration: Integration, creds: ClientCredentials, params: Mapping[str, str]
) -> dict[str, Any]:
    """POST to the app's token endpoint the way it wants it; the parsed answer or TokenError."""
    spec = integration.oauth
    body = {k: v for k, v in params.items() if v is not None}
    auth = None
    query: dict[str, str] | None = None
    if spec.client_auth == "basic":
        auth = (creds.client_id, creds.client_secret)
    elif spec.client_auth == "query":
        query = {"client_id": creds.client_id, "client_secret": creds.client_secret, **body}
        body = {}
    else:
        body = {"client_id": creds.client_id, "client_secret": creds.client_secret, **body}
    kwargs: dict[str, Any] = {"auth": auth, "params": query, "raise_for_status": False}
    if spec.token_request == "json":  # noqa: S105  (a body format)
        kwargs["json"] = body
    elif body:
        kwargs["data"] = body
    try:
        response = http.request("POST", spec.token_url(), **kwargs)
    except IntegrationError:
        raise TokenError("unreachable", transient=True) from None
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if response.status_code >= 500 or response.status_code == 429:
        raise TokenError(f"HTTP {response.status_code}", transient=True)
    if not isinstance(answer, dict):
        raise TokenError(f"HTTP {response.status_code}", transient=response.status_code < 400)
    if answer.get("ok") is False or answer.get("error") or response.status_code >= 400:
        code = answer.get("error") or answer.get("ECODE") or f"HTTP {response.status_code}"
        raise TokenError(str(code))
    if not answer.get("access_token"):
        raise TokenError("no_access_token")
    return answer


def exchange_code(
    integration: Integration, workspace, code: str, verifier: str | None
) -> tuple[dict[str, Any], TokenSet]:
    creds = client_credentials(integration, workspace)
    params = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri(integration),
        "code_verifier": verifier,
    }
    answer = token_request(integration, creds, params)
    return answer, integration.token_set(answer)


def refresh(integration: Integration, workspace, refresh_token: str) -> TokenSet:
    creds = client_credentials(integration, workspace)
    params = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return integration.token_set(token_request(integration, creds, params))
