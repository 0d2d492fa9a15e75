"""The contract every integration implements.

An integration is a plain object registered by slug in ``integrations.registry``. It declares
how to connect (``oauth`` or an API key), how to build the app's own SDK client from a
connection, and the actions and triggers it offers. Each action and trigger declares its
fields once; the editor form, publish-time validation and the data picker all read that one
declaration.

Integrations raise exactly one error type, ``IntegrationError``, whose flags alone tell the
engine what to do: retry later, fail the step, or ask an admin to reconnect.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

# Field and output declarations live in their own module; they are part of this contract and
# integrations import them from here.
from integrations.fields import (
    Choice,
    ChoicePage,
    ChoicesProvider,
    Field,
    FieldKind,
    FieldsProvider,
    OutputField,
    ProvidedOutputs,
    output_shape,
    with_provided,
)
from integrations.polls import PollItem, PollRequest, PollResult

__all__ = [
    "Account",
    "Action",
    "Choice",
    "ChoicePage",
    "ChoicesProvider",
    "ClientAuth",
    "Connection",
    "Context",
    "Effect",
    "Field",
    "FieldKind",
    "FieldsProvider",
    "Integration",
    "IntegrationError",
    "OAuthSpec",
    "OutputField",
    "PollItem",
    "PollRequest",
    "PollResult",
    "StopRun",
    "TokenSet",
    "Trigger",
    "WaitUntil",
    "output_shape",
]


class Connection(Protocol):
    """What an integration may use of a connection (``hub.connections`` implements it).
    Declared here rather than imported, so integrations sit below the hub's connections."""

    pk: Any
    label: str
    access_token: str
    refresh_token: str

    def fresh_token(self) -> str:
        """The access token, refreshed first when it is about to expire."""
        ...

    def client_credentials(self) -> Any:
        """The OAuth client (``client_id``, ``client_secret``) the connection came through."""
        ...


class IntegrationError(Exception):
    """A call to an app failed.

    ``permanent`` — retrying will not help (bad input, object not found): fail the step.
    ``reauth`` — the credentials are no longer accepted: refresh once, then the connection
    needs reconnecting.
    Neither — a passing fault (timeout, 5xx, 429): retry with backoff, waiting at least
    ``retry_after`` seconds when the app said so.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        reauth: bool = False,
        retry_after: float | None = None,
        throttled: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.reauth = reauth
        self.retry_after = retry_after
        # The hub's own rate limiter held the call back: nothing reached the app, so the
        # wait does not count as a failed attempt.
        self.throttled = throttled

    @property
    def retryable(self) -> bool:
        return not (self.permanent or self.reauth)


class StopRun(Exception):
    """Raised by a step to end the run early without failing it (a filter that did not pass)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class WaitUntil(Exception):
    """Raised by a step to park the run until ``resume_at`` (an aware datetime).

    The engine records the step as waiting and re-enqueues the run with that ETA; no worker
    sleeps. When the run resumes the step is called again with ``ctx.resumed`` set.
    """

    def __init__(self, resume_at: Any, output: dict[str, Any] | None = None) -> None:
        super().__init__(str(resume_at))
        self.resume_at = resume_at
        self.output = output or {}


Effect = Literal["read", "write", "destructive"]


@dataclass
class Context:
    """What an action, trigger or choices provider is given when it runs.

    ``config`` holds the step's input after mapping: plain JSON values, never templates.
    """

    workspace_id: int
    config: dict[str, Any] = field(default_factory=dict)
    connection: Connection | None = None
    run_id: int | None = None
    step_key: str | None = None
    integration: Integration | None = None
    # True when a step that raised WaitUntil is called again after its wait.
    resumed: bool = False
    # The recipe's time zone (IANA name): the recipe file's "timezone", else the workspace's.
    # Dates a member types are read in it; dates an action outputs carry their offset.
    timezone: str = "UTC"
    # Who the run acts for (the recipe's owner) and which recipe/version, for records such as
    # LLM usage; None outside a run (pickers, tests of a step).
    recipe_id: int | None = None
    version_id: int | None = None
    member_id: int | None = None

    def client(self) -> Any:
        """The app's SDK client bound to a fresh token of this step's connection."""
        if self.integration is None or self.connection is None:
            raise IntegrationError("This step has no connection.", permanent=True)
        return self.integration.client(self.connection)


@dataclass(frozen=True)
class Action(ProvidedOutputs):
    key: str
    label: str
    run: Callable[[Context], dict[str, Any]]
    fields: tuple[Field, ...] = ()
    outputs: tuple[OutputField, ...] = ()
    sample: Mapping[str, Any] = field(default_factory=dict)
    effect: Effect = "write"
    help: str = ""
    # Further fields that depend on earlier choices (a Notion data source's properties).
    fields_provider: FieldsProvider | None = None
    # Runs in-process and calls nothing outside (formatter, filter, loop, paths): the engine
    # writes its attempt once, with its result, instead of before and after the call.
    local: bool = False
    # Further outputs known only through the connection (a Notion data source's properties
    # by name), beside the static ``outputs``; ``outputs_for(ctx)`` gives both.
    outputs_provider: Callable[[Context], tuple[OutputField, ...]] | None = None
    # Write and destructive actions: the request ``run`` would send, without sending it and
    # without the token — ``{"method", "url", "body"}`` — for the editor's "Test step".
    preview: Callable[[Context], dict[str, Any]] | None = None
    # Outputs that follow from the step's settings alone (llm.extract: one per field).
    config_outputs: Callable[[Mapping[str, Any]], tuple[OutputField, ...]] | None = None

    def field(self, key: str) -> Field | None:
        return next((f for f in self.fields if f.key == key), None)

    def output_shape(self, config: Mapping[str, Any] | None = None) -> dict:
        """Static outputs and ``config_outputs(config)``; with an ``outputs_provider`` (or no
        config to read) any other key is accepted too: publish checks have no connection."""
        outputs = self.outputs + (self.config_outputs(config or {}) if self.config_outputs else ())
        unknown = self.config_outputs is not None and config is None
        return output_shape(outputs, self.sample, open=self.outputs_provider is not None or unknown)

    def outputs_for(self, ctx: Context) -> tuple[OutputField, ...]:
        """Every output for this step's config: the static ones, those the config names
        (``config_outputs``), then the provider's."""
        outputs = self.outputs
        if self.config_outputs is not None:
            outputs = outputs + self.config_outputs(ctx.config)
        return with_provided(outputs, self.outputs_provider, ctx)


@dataclass(frozen=True)
class Trigger(ProvidedOutputs):
    key: str
    label: str
    fields: tuple[Field, ...] = ()
    outputs: tuple[OutputField, ...] = ()
    sample: Mapping[str, Any] = field(default_factory=dict)
    help: str = ""
    # Polling triggers: (context, request) -> PollResult; the hub stores the cursor and the
    # seen ids in the same transaction that inserts the runs (exactly once per item).
    poll: Callable[[Context, PollRequest], PollResult] | None = None
    # Instant triggers: the app pushes events (Slack Events API, ClickUp webhooks); such a
    # trigger may still declare ``poll`` as the fallback where the hub has no public URL.
    instant: bool = False
    # Instant triggers whose events carry only ids (a ClickUp delivery names the task):
    # (context, the event's data) -> the run's trigger data, called as the run starts, so the
    # data is the item as it is then and the request that delivered the event calls nothing.
    resolve: Callable[[Context, dict[str, Any]], dict[str, Any]] | None = None
    # The data is whatever the caller sends (a webhook body, "Run now" test data): later
    # steps may reference anything in it, so publish-time checks cannot hold it to a shape.
    any_data: bool = False
    # Outputs only the connection knows (a Notion data source's properties), as on ``Action``.
    outputs_provider: Callable[[Context], tuple[OutputField, ...]] | None = None

    def output_shape(self) -> dict | None:
        opened = self.outputs_provider is not None
        return None if self.any_data else output_shape(self.outputs, self.sample, open=opened)


ClientAuth = Literal["basic", "body", "query"]


@dataclass(frozen=True)
class OAuthSpec:
    """How an app does OAuth 2. URLs are callables so they follow settings at call time."""

    authorize_url: Callable[[], str]
    token_url: Callable[[], str]
    # Prefix of the CLIENT_ID / CLIENT_SECRET environment variables, e.g. "GOOGLE".
    env_prefix: str
    scopes: tuple[str, ...] = ()
    scope_param: str = "scope"
    scope_separator: str = " "
    client_auth: ClientAuth = "body"
    token_request: Literal["form", "json"] = "form"  # noqa: S105  (a body format, not a secret)
    extra_authorize_params: Mapping[str, str] = field(default_factory=dict)
    pkce: bool = False
    refreshes: bool = False
    revoke_url: Callable[[], str] | None = None


@dataclass(frozen=True)
class TokenSet:
    """What a token endpoint granted, in one shape for every app."""

    access_token: str
    refresh_token: str | None = None
    expires_in: float | None = None
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Account:
    """The external account behind a token: a stable id and the name people know it by."""

    external_id: str
    label: str
    details: Mapping[str, Any] = field(default_factory=dict)


class Integration:
    slug: str = ""
    name: str = ""
    oauth: OAuthSpec | None = None
    # True for apps connected with an API key (LLM providers) rather than OAuth.
    uses_api_key: bool = False
    # Slugs of the integrations whose connections this app's steps use; empty means its own.
    # The ``llm`` steps use a provider connection (``openai``, ``anthropic``, ``gemini``,
    # ``openai_compatible``), so one step key works on every provider.
    connection_slugs: tuple[str, ...] = ()
    actions: Mapping[str, Action] = {}
    triggers: Mapping[str, Trigger] = {}

    @property
    def connects(self) -> Literal["oauth", "api_key", "none"]:
        """How a workspace connects this app: OAuth, an API key, or not at all (built-ins)."""
        if self.oauth is not None:
            return "oauth"
        return "api_key" if self.uses_api_key else "none"

    @property
    def uses_connections_of(self) -> tuple[str, ...]:
        return self.connection_slugs or (self.slug,)

    def client(self, connection: Connection) -> Any:
        raise NotImplementedError

    def token_set(self, token: Mapping[str, Any]) -> TokenSet:
        """Read a token-endpoint answer (code exchange or refresh). Standard OAuth by default."""
        scope = token.get("scope") or ""
        separator = self.oauth.scope_separator if self.oauth else " "
        expires_in = token.get("expires_in")
        return TokenSet(
            access_token=str(token["access_token"]),
            refresh_token=token.get("refresh_token") or None,
            expires_in=float(expires_in) if expires_in else None,
            scopes=tuple(s for s in str(scope).replace(separator, " ").split() if s),
        )

    def map_error(self, exc: Exception) -> IntegrationError | None:
        """Translate an exception from the app's SDK into an IntegrationError, or None when
        it is not the SDK's. Actions call this (through ``errors()``) so the engine only ever
        sees IntegrationError."""
        return None

    def errors(self) -> _ErrorTranslator:
        """``with integration.errors(): ...`` re-raises SDK errors as IntegrationError."""
        return _ErrorTranslator(self)

    def account(self, token: Mapping[str, Any]) -> Account:
        """Label the connection from the token response (or one identity call)."""
        raise NotImplementedError

    def check(self, connection: Connection) -> str:
        """Call the app's identity endpoint; return a short description or raise."""
        raise NotImplementedError

    def revoke(self, connection: Connection) -> None:
        """Revoke the connection's token at the app, where the app has an endpoint."""

    def authorize_hint(self) -> str:
        """Extra words for the setup page (what to enable in the app's console)."""
        return ""

    def action(self, key: str) -> Action:
        try:
            return self.actions[key]
        except KeyError:
            raise IntegrationError(f"{self.name} has no action “{key}”.", permanent=True) from None

    def trigger(self, key: str) -> Trigger:
        try:
            return self.triggers[key]
        except KeyError:
            raise IntegrationError(f"{self.name} has no trigger “{key}”.", permanent=True) from None


class _ErrorTranslator:
    def __init__(self, integration: Integration) -> None:
        self.integration = integration

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is None or isinstance(exc, IntegrationError):
            return False
        mapped = self.integration.map_error(exc)
        if mapped is None:
            return False
        raise mapped from None
