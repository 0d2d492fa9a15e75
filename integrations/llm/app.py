"""The ``llm`` app: AI steps that run on any provider connection. The providers themselves
(``openai``, ``anthropic``, ``gemini``, ``openai_compatible``) are API-key integrations of
their own (``integrations.llm.providers``); a step names one of their connections."""

from __future__ import annotations

from typing import Any

from integrations import registry
from integrations.base import Connection, Integration
from integrations.llm.steps.ask import ASK
from integrations.llm.steps.classify import CLASSIFY
from integrations.llm.steps.extract import EXTRACT
from integrations.llm.steps.summarize import SUMMARIZE

PROVIDERS = ("openai", "anthropic", "gemini", "openai_compatible")


class LLMIntegration(Integration):
    slug = "llm"
    name = "AI"
    connection_slugs = PROVIDERS
    actions = {a.key: a for a in (ASK, EXTRACT, CLASSIFY, SUMMARIZE)}
    triggers = {}

    def client(self, connection: Connection) -> Any:
        """The provider's SDK client: a step's connection is a provider's."""
        return registry.get(getattr(connection, "integration", "")).client(connection)
