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
    # Apps with triggers of their own (Slack, ClickUp, …) are listed beside the built-in ones.
    assert {"manual", "webhook", "schedule"} <= set(registry.with_triggers())
    schedule = registry.get("schedule")
    assert set(schedule.triggers) == {"cron", "every", "hourly", "daily", "weekly"}


def check_field_declaration(f, siblings, *, in_row=False):
    assert SNAKE.match(f.key) and str(f.label)
    assert isinstance(str(f.placeholder), str)
    if f.choices:
        assert f.kind in ("choice", "list")
        values = [c.value for c in f.choices]
        assert len(values) == len(set(values)), f"{f.key}: choice values are unique"
    if f.multiple:
        assert f.kind == "choice", f"{f.key}: only a choice field takes several choices"
        assert f.has_choices, f"{f.key}: a multi-select offers choices"
    if f.depends_on:
        assert f.dynamic_choices is not None, f"{f.key}: depends_on feeds a choices provider"
        for other in f.depends_on:
            assert other in siblings and other != f.key, f"{f.key} depends on unknown {other}"
    if in_row:
        assert f.kind != "secret", f"{f.key}: secrets are stored per field, not per row"
    if f.row:
        assert f.kind == "list", f"{f.key}: only a list field has rows"
        row_keys = [sub.key for sub in f.row]
        assert len(row_keys) == len(set(row_keys)), f"{f.key}: row keys are unique"
        for sub in f.row:
            check_field_declaration(sub, [*siblings, *row_keys], in_row=True)


def check_outputs_declaration(outputs, sample):
    """Output keys are unique at each level; where an output declares children, the sample
    holds exactly them (in the object, or in each item of the list)."""
    keys = [o.key for o in outputs]
    assert len(keys) == len(set(keys)), "output keys are unique"
    for output in outputs:
        if not output.children:
            continue
        assert output.kind in ("json", "list"), f"{output.key}: children need an object or list"
        value = (sample or {}).get(output.key)
        items = value if output.kind == "list" else [value]
        for item in items or []:
            assert isinstance(item, dict), f"{output.key}: the sample holds objects"
            assert set(item) == {c.key for c in output.children}, f"{output.key}'s children"
            check_outputs_declaration(output.children, item)


@pytest.mark.parametrize(("slug", "what", "key", "item"), list(declarations()))
def test_declaration_holds_together(slug, what, key, item):
    assert item.key == key and SNAKE.match(key)
    assert str(item.label)
    field_keys = [f.key for f in item.fields]
    assert len(field_keys) == len(set(field_keys)), "field keys are unique"
    for f in item.fields:
        check_field_declaration(f, field_keys)
    check_outputs_declaration(item.outputs, item.sample)
    if what == "action" and item.preview is not None:
        assert item.effect in ("write", "destructive"), "only a step that changes things previews"
    if what == "action" and slug != "builtin" and item.effect != "read":
        assert item.preview is not None, "a write or destructive action previews its request"
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
    if getattr(item, "outputs_provider", None) is not None:
        # Further outputs only the connection knows (a Notion database's properties): any
        # other key is accepted at publish time.
        assert undeclared == []
        return
    assert undeclared and "not_declared_anywhere" in undeclared[0].message


def test_the_declaration_checks_refuse_what_the_editor_could_not_render():
    from integrations.base import Field, OutputField

    bad_fields = [
        Field("tags", "Tags", kind="choice", multiple=True),
        Field("tags", "Tags", kind="text", multiple=True, choices=()),
        Field("rows", "Rows", kind="list", row=(Field("Bad Key", "Bad"),)),
        Field("rows", "Rows", kind="json", row=(Field("name", "Name"),)),
        Field("rows", "Rows", kind="list", row=(Field("key", "Key", kind="secret"),)),
        Field("list", "List", kind="choice", depends_on=("space",), dynamic_choices=print),
    ]
    for bad in bad_fields:
        with pytest.raises(AssertionError):
            check_field_declaration(bad, [bad.key])
    nested = (OutputField("items", "Items", kind="list", children=(OutputField("a", "A"),)),)
    check_outputs_declaration(nested, {"items": [{"a": "x"}]})
    with pytest.raises(AssertionError):
        check_outputs_declaration(nested, {"items": [{"b": "x"}]})
