"""One test over every registered integration: what each declares holds together, so the
editor's pickers and the publish-time checks, which read the same declarations, never disagree."""

from __future__ import annotations

import re

import pytest

from hub import mapping
from integrations import registry
from integrations.base import OAuthSpec

SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
KIND_TYPES = {
    "text": str,
    "long_text": str,
    "number": int | float,
    "bool": bool,
    "date": str,
    "list": list,
    "choice": str,
}


def declarations():
    for slug in registry.available():
        integration = registry.get(slug)
        for key, action in integration.actions.items():
            yield pytest.param(slug, "action", key, action, id=f"{slug}.{key}")
        for key, trigger in integration.triggers.items():
            yield pytest.param(slug, "trigger", key, trigger, id=f"{slug}:{key}")


@pytest.mark.parametrize("slug", registry.available())
def test_each_integration_declares_how_it_connects(slug):
    integration = registry.get(slug)
    assert integration.slug == slug
    assert integration.name
    assert integration.connects in ("oauth", "api_key", "none")
    if integration.connects == "oauth":
        assert isinstance(integration.oauth, OAuthSpec)
        assert integration.oauth.env_prefix
    assert integration.actions or integration.triggers


def test_oauth_apps_are_the_four_connected_apps():
    assert registry.connected_by("oauth") == ["slack", "notion", "gmail", "clickup"]


def test_built_in_triggers_are_declared_by_the_registry():
    assert registry.with_triggers() == ["manual", "webhook", "schedule"]
    schedule = registry.get("schedule")
    assert set(schedule.triggers) == {"cron", "every", "hourly", "daily", "weekly"}


@pytest.mark.parametrize(("slug", "what", "key", "item"), list(declarations()))
def test_declaration_holds_together(slug, what, key, item):
    assert item.key == key and SNAKE.match(key)
    assert str(item.label)
    field_keys = [f.key for f in item.fields]
    assert len(field_keys) == len(set(field_keys)), "field keys are unique"
    for f in item.fields:
        assert SNAKE.match(f.key) and str(f.label)
        if f.choices:
            assert f.kind in ("choice", "list")
    output_keys = [o.key for o in item.outputs]
    assert len(output_keys) == len(set(output_keys)), "output keys are unique"
    if getattr(item, "any_data", False):
        assert not item.outputs and item.output_shape() is None
        return
    # The sample promises exactly the declared outputs, each of its declared kind.
    assert set(item.sample) == set(output_keys)
    for output in item.outputs:
        expected = KIND_TYPES.get(output.kind)
        value = item.sample[output.key]
        if expected is not None and value is not None:
            assert isinstance(value, expected), f"{output.key} is {output.kind}"
    if what == "action" and item.local:
        assert item.effect == "read", "a local step calls nothing outside"


@pytest.mark.parametrize(("slug", "what", "key", "item"), list(declarations()))
def test_publish_checks_accept_every_declared_output_and_nothing_else(slug, what, key, item):
    shape = item.output_shape()
    if shape is None:
        return
    known = {"trigger": shape, "steps": {"s": shape}} if what == "trigger" else None
    known = known or {"trigger": None, "steps": {"s": shape}}
    root = "trigger" if what == "trigger" else "steps.s"
    for output in item.outputs:
        assert mapping.check({"x": f"{{{{ {root}.{output.key} }}}}"}, known) == []
    undeclared = mapping.check({"x": f"{{{{ {root}.not_declared_anywhere }}}}"}, known)
    assert undeclared and "not_declared_anywhere" in undeclared[0].message
