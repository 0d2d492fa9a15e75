from __future__ import annotations

from integrations import registry
from integrations.builtin.app import BuiltinIntegration


def test_registered_with_every_builtin_action():
    app = registry.get("builtin")
    assert isinstance(app, BuiltinIntegration)
    assert (app.slug, app.name, app.oauth) == ("builtin", "Built-in tools", None)
    assert set(app.actions) == {"filter", "formatter", "delay", "http_request", "loop", "paths"}


def test_actions_declare_fields_outputs_and_samples():
    for key, action in BuiltinIntegration.actions.items():
        assert action.key == key
        assert action.fields and action.outputs and action.sample
        assert {o.key for o in action.outputs} <= set(action.sample) | {"text", "json"}
        assert action.effect in ("read", "write")
        assert len({f.key for f in action.fields}) == len(action.fields)
    assert BuiltinIntegration.actions["http_request"].effect == "write"
