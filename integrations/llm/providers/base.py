"""What every provider takes and gives, so the steps are written once."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from integrations.base import Connection, Integration, IntegrationError
from integrations.llm.usage import Usage


@dataclass(frozen=True)
class Prompt:
    model: str
    instructions: str
    input: str
    temperature: float | None = None
    max_output_tokens: int | None = None
    # A JSON schema the answer must follow (native structured output), with a name for it.
    schema: dict[str, Any] | None = None
    schema_name: str = "answer"
    # Earlier turns: (role, text), role "user" or "assistant" (a repair attempt).
    history: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Completion:
    text: str
    model: str
    finish_reason: str
    usage: Usage
    # The structured answer as the provider returned it, already parsed from JSON.
    data: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


def call_timeout() -> float:
    return float(getattr(settings, "LLM_CALL_TIMEOUT_SECONDS", 60))


def base_url(connection: Connection, setting: str, default: str) -> str:
    details = getattr(connection, "details", None) or {}
    return details.get("base_url") or getattr(settings, setting, "") or default


def retry_after(headers: Any) -> float | None:
    """Seconds from a Retry-After header (or OpenAI's retry-after-ms)."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return float(ms) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    try:
        return float(value) if value else None
    except ValueError:
        return None


def by_status(
    status: int | None, detail: str, provider: str, headers: Any = None, *, context: bool = False
) -> IntegrationError:
    """The hub's error for a provider's HTTP status."""
    if status in (401, 403):
        return IntegrationError(
            str(_("%(provider)s refused the API key (%(detail)s). An admin must enter a new key."))
            % {"provider": provider, "detail": detail},
            reauth=True,
        )
    if context:
        return IntegrationError(
            str(
                _(
                    "The text is too long for this model (%(detail)s). Send less text, or "
                    "choose a model with a larger context."
                )
            )
            % {"detail": detail},
            permanent=True,
        )
    if status is None or status == 429 or status >= 500:
        return IntegrationError(
            str(_("%(provider)s is busy or unavailable (%(detail)s)."))
            % {
                "provider": provider,
                "detail": detail,
            },
            retry_after=retry_after(headers),
        )
    return IntegrationError(
        str(_("%(provider)s did not accept the request: %(detail)s"))
        % {"provider": provider, "detail": detail},
        permanent=True,
    )


def refused(provider: str, detail: str = "") -> IntegrationError:
    extra = f" ({detail})" if detail else ""
    return IntegrationError(
        str(
            _(
                "%(provider)s refused to answer%(detail)s. Reword the instructions or the "
                "input, then run again."
            )
        )
        % {"provider": provider, "detail": extra},
        permanent=True,
    )


def cached_client(build):
    """Keep SDK clients for reuse: building one loads TLS settings and a connection pool
    (a few hundred ms), too much to repeat per call. Keyed by everything the client is
    bound to, so a new key or base URL gets a new client."""
    clients: dict[tuple, Any] = {}
    lock = threading.Lock()

    def client(self, connection: Connection) -> Any:
        key = (
            self.slug,
            base_url(connection, self.url_setting, self.default_url),
            hashlib.sha256(connection.fresh_token().encode()).hexdigest(),
        )
        with lock:
            if key not in clients:
                if len(clients) >= MAX_CLIENTS:
                    clients.pop(next(iter(clients)))
                clients[key] = build(self, connection)
            return clients[key]

    return client


MAX_CLIENTS = 64


class ProviderIntegration(Integration):
    """An LLM provider, connected with an API key. Its steps are the ``llm`` app's."""

    uses_api_key = True
    key_optional = False
    # The base URL setting and its default.
    url_setting = ""
    default_url = ""

    def complete(self, client: Any, prompt: Prompt) -> Completion:
        raise NotImplementedError

    def list_models(self, connection: Connection) -> list[dict[str, Any]]:
        """The models the key may use: ``[{"id", "name", "context"}]`` (context may be None)."""
        raise NotImplementedError

    def check(self, connection: Connection) -> str:
        models = self.list_models(connection)
        return str(_("%(count)s models available")) % {"count": len(models)}
