"""The editor's controls come from the declarations alone, and the posted form reads back
into the config a recipe file would hold: rows, multi-selects, secrets, defaults."""

from __future__ import annotations

import pytest
from django.http import QueryDict

from hub.engine import secrets
from hub.web import editor_fields
from integrations import registry
from integrations.base import Choice, Field

PLACE = {"app": "builtin", "step": "http_request", "card": "step-http", "connection_id": None}


def post(**values) -> QueryDict:
    q = QueryDict(mutable=True)
    for name, value in values.items():
        name = name.replace("__", ".")
        for item in value if isinstance(value, list) else [value]:
            q.appendlist(name, item)
    return q


def test_every_field_of_every_registered_action_gets_a_control():
    for slug in registry.available():
        integration = registry.get(slug)
        for action in integration.actions.values():
            place = {**PLACE, "app": slug, "step": action.key}
            for control in editor_fields.controls(action.fields, {}, place, {}):
                assert control.widget in {
                    "text",
                    "textarea",
                    "checkbox",
                    "select",
                    "checkboxes",
                    "picker",
                    "picker_multiple",
                    "rows",
                    "lines",
                    "json",
                    "secret",
                    "conditions",
                    "paths",
                }, (slug, action.key, control.key)
                assert control.label and control.id.startswith("step-http-")


@pytest.mark.django_db
def test_a_secret_is_sealed_when_typed_and_kept_when_left_blank(workspace):
    field = Field("auth_value", "Sign-in value", kind="secret")
    sealed, _error = editor_fields.read_value(
        field, post(config__auth_value="s3cr3t"), "config.auth_value", None, workspace.pk
    )
    assert secrets.is_sealed(sealed) and "s3cr3t" not in str(sealed)
    kept, _error = editor_fields.read_value(
        field, post(), "config.auth_value", sealed, workspace.pk
    )
    assert kept == sealed
    control = editor_fields.control(field, sealed, PLACE, {}, {})
    assert control.secret_state == "set" and control.value == ""


def test_rows_are_read_added_and_removed():
    headers = Field(
        "headers",
        "Headers",
        kind="list",
        row=(Field("name", "Name", required=True), Field("value", "Value")),
    )
    form = post(
        rows__config__headers="2",
        config__headers__0__name="Accept",
        config__headers__0__value="application/json",
        config__headers__1__name="X-Drop",
        config__headers__1__value="1",
        remove__config__headers__1="1",
    )
    rows, _error = editor_fields.read_value(headers, form, "config.headers", None, 1)
    assert rows == [{"name": "Accept", "value": "application/json"}]
    form.appendlist("add_row", "config.headers")
    rows, _error = editor_fields.read_value(headers, form, "config.headers", None, 1)
    assert rows[-1] == {} and len(rows) == 2


def test_a_checkbox_group_with_nothing_ticked_clears_and_defaults_stay_out():
    days = Field(
        "days", "Days", kind="list", choices=(Choice("mon", "Monday"), Choice("tue", "Tuesday"))
    )
    config, _errors = editor_fields.read_config(
        [days], post(multi__config__days="1"), {"days": ["mon"]}, 1
    )
    assert config == {}
    config, _errors = editor_fields.read_config([days], post(config__days=["tue"]), {}, 1)
    assert config == {"days": ["tue"]}
    limit = Field("limit", "At most", kind="number", default=20)
    config, _errors = editor_fields.read_config([limit], post(config__limit="20"), {}, 1)
    assert config == {}
    config, _errors = editor_fields.read_config([limit], post(config__limit="5"), {}, 1)
    assert config == {"limit": 5}


def test_invalid_json_keeps_the_old_value_and_says_where():
    field = Field("body", "Body", kind="json")
    value, error = editor_fields.read_value(
        field, post(config__body='{"a": '), "config.body", {"a": 1}, 1
    )
    assert value == {"a": 1}
    assert "line 1" in error
