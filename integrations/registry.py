"""Every integration, by slug. Explicit on purpose: adding one is a line here, and nothing is
discovered through import side effects. Modules are imported on first use."""

from __future__ import annotations

from functools import cache
from importlib import import_module

from integrations.base import Integration, IntegrationError

# In the order people meet them on the Connections page and in the editor.
INTEGRATIONS: dict[str, str] = {
    "slack": "integrations.slack.app:SlackIntegration",
    "notion": "integrations.notion.app:NotionIntegration",
    "gmail": "integrations.gmail.app:GmailIntegration",
    "clickup": "integrations.clickup.app:ClickUpIntegration",
    "llm": "integrations.llm.app:LLMIntegration",
    # AI providers, connected with an API key; the llm steps use their connections.
    "openai": "integrations.llm.providers.openai_chat:OpenAIIntegration",
    "anthropic": "integrations.llm.providers.anthropic_messages:AnthropicIntegration",
    "gemini": "integrations.llm.providers.gemini:GeminiIntegration",
    "openai_compatible": "integrations.llm.providers.openai_chat:OpenAICompatibleIntegration",
    "builtin": "integrations.builtin.app:BuiltinIntegration",
    # Triggers that need no app.
    "manual": "integrations.builtin.triggers:ManualIntegration",
    "webhook": "integrations.builtin.triggers:WebhookIntegration",
    "schedule": "integrations.builtin.triggers:ScheduleIntegration",
}


@cache
def get(slug: str) -> Integration:
    try:
        path = INTEGRATIONS[slug]
    except KeyError:
        raise IntegrationError(f"There is no app called “{slug}”.", permanent=True) from None
    module_name, class_name = path.split(":")
    return getattr(import_module(module_name), class_name)()


def available() -> list[str]:
    return list(INTEGRATIONS)


def connected_by(kind: str) -> list[str]:
    """The slugs of the integrations a workspace connects this way ("oauth", "api_key")."""
    return [slug for slug in INTEGRATIONS if get(slug).connects == kind]


def with_triggers() -> list[str]:
    """The slugs a recipe's trigger may name."""
    return [slug for slug in INTEGRATIONS if get(slug).triggers]
