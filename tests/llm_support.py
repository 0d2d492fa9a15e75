"""Fixtures for the AI steps: the three provider fakes (and an OpenAI-compatible server),
connections holding keys they accept, and recipe steps that use them."""

from __future__ import annotations

import pytest

from tests.conftest import make_recipe

MODELS = {
    "openai": "gpt-4o-mini",
    "anthropic": "claude-haiku-4-5",
    "gemini": "gemini-2.5-flash",
    "openai_compatible": "llama3.1:8b",
}
LABELS = {
    "openai": "OpenAI",
    "anthropic": "Claude",
    "gemini": "Gemini",
    "openai_compatible": "Ollama",
}
EMAIL = (
    "Hi team,\n"
    "Task: Prepare the Q3 board report\n"
    "Assignee email: mina@acme.test\n"
    "Due date: 2026-12-04\n"
    "Priority: urgent\n"
    "Tags: finance, board\n"
    "Thanks, Lee"
)
FIELDS = [
    {"name": "assignee email", "type": "text", "required": True},
    {"name": "task", "type": "text", "required": True},
    {"name": "due date", "type": "date", "required": True},
    {"name": "priority", "type": "choice", "choices": ["urgent", "high", "normal", "low"]},
    {"name": "tags", "type": "list"},
]


def start_fake(slug: str):
    if slug == "anthropic":
        from tests.fakes.anthropic import FakeAnthropic

        return FakeAnthropic().start()
    if slug == "gemini":
        from tests.fakes.gemini import FakeGemini

        return FakeGemini().start()
    from tests.fakes.openai import FakeOpenAI

    if slug == "openai_compatible":
        fake = FakeOpenAI(require_key=False, models={}).start()
        fake.add_model("llama3.1:8b", context=128_000)
        fake.add_model("llama3:8b", context=8_192)
        return fake
    return FakeOpenAI().start()


def provider_connection(workspace, slug: str, fake, *, label=None, allowed=(), user=None):
    """An API-key connection as the add-key page saves it, with the models "Test
    connection" listed."""
    from hub.connections.models import Connection

    key = "" if slug == "openai_compatible" else fake.issue_key()
    details = {"available": [{"id": m, "name": m, "context": None} for m in fake.models]}
    if slug == "openai_compatible":
        details["base_url"] = f"{fake.origin}/v1"
    if allowed:
        details["allowed"] = list(allowed)
    connection = Connection(
        workspace=workspace,
        integration=slug,
        kind=Connection.Kind.API_KEY,
        label=label or LABELS[slug],
        details=details,
        created_by=user,
    )
    connection.access_token = key
    connection.save()
    return connection


def llm_step(slug: str, action: str = "ask", key: str = "ai", **config):
    base = {"model": MODELS[slug], "input": "{{ trigger.body }}"}
    return {
        "key": key,
        "app": "llm",
        "action": action,
        "connection": LABELS[slug],
        "config": {**base, **config},
    }


def llm_recipe(workspace, slug: str, action: str = "ask", **config):
    return make_recipe(workspace, [llm_step(slug, action, **config)])


@pytest.fixture(params=["openai", "anthropic", "gemini", "openai_compatible"])
def provider(request, settings, workspace):
    """Each provider's fake, the settings pointing at it and a connection: (slug, fake)."""
    fake = start_fake(request.param)
    for key, value in fake.settings().items():
        if request.param != "openai_compatible":
            setattr(settings, key, value)
    provider_connection(workspace, request.param, fake)
    yield request.param, fake
    fake.stop()


@pytest.fixture
def openai_fake(settings, workspace):
    fake = start_fake("openai")
    settings.OPENAI_BASE_URL = fake.base_url
    provider_connection(workspace, "openai", fake)
    yield fake
    fake.stop()


def recorded_call(workspace, dollars, recipe=None, at=None, **fields):
    """A call recorded the way the hub records one (with the month's running totals) that
    cost ``dollars`` (None: price unknown); returns the call and the totals after it."""
    from decimal import Decimal

    from django.utils import timezone

    from hub.llm import spend
    from hub.llm.models import LLMCall

    call = LLMCall(
        workspace=workspace,
        recipe=recipe,
        provider="openai",
        model_requested=fields.pop("model", "gpt-4o-mini"),
        operation="ask",
        status=LLMCall.Status.OK,
        cost=None if dollars is None else Decimal(dollars),
        created_at=at or timezone.now(),
        **fields,
    )
    return call, spend.save_call(call)
