"""A ClickUp list's custom fields as fields of create_task, typed from the list, and their
values sent as ClickUp wants them — checked on what the fake stored."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from integrations.base import IntegrationError
from tests.test_clickup_actions import clickup, context, fails, ms, run  # noqa: F401

SEOUL = ZoneInfo("Asia/Seoul")


@pytest.fixture
def board(clickup):  # noqa: F811
    fields = {
        "stage": clickup.add_custom_field(
            clickup.list_id, "Stage", "drop_down", options=["Lead", "Won", "Lost"]
        ),
        "amount": clickup.add_custom_field(clickup.list_id, "Amount", "number", required=True),
        "signed": clickup.add_custom_field(clickup.list_id, "Signed on", "date"),
        "urgent": clickup.add_custom_field(clickup.list_id, "Urgent", "checkbox"),
        "site": clickup.add_custom_field(clickup.list_id, "Website", "url"),
        "contact": clickup.add_custom_field(clickup.list_id, "Contact", "email"),
        "owner": clickup.add_custom_field(clickup.list_id, "Account owner", "users"),
        "notes": clickup.add_custom_field(clickup.list_id, "Notes", "text"),
        "code": clickup.add_custom_field(clickup.list_id, "Order code", "short_text"),
    }
    return {name: f"cf_{f['id']}" for name, f in fields.items()}, fields


def test_the_fields_provider_types_each_custom_field(clickup, board):  # noqa: F811
    keys, fields = board
    ctx = context(clickup, list=clickup.list_id)
    provided = {f.key: f for f in ctx.integration.action("create_task").fields_provider(ctx)}
    assert set(provided) == set(keys.values())
    stage = provided[keys["stage"]]
    assert stage.label == "Stage" and stage.kind == "choice"
    assert [(c.label) for c in stage.choices] == ["Lead", "Won", "Lost"]
    assert stage.choices[1].value == fields["stage"]["type_config"]["options"][1]["id"]
    kinds = {name: provided[key].kind for name, key in keys.items()}
    assert kinds == {
        "stage": "choice",
        "amount": "number",
        "signed": "date",
        "urgent": "bool",
        "site": "text",
        "contact": "text",
        "owner": "list",
        "notes": "long_text",
        "code": "text",
    }
    assert provided[keys["amount"]].required and not provided[keys["notes"]].required
    assert clickup.calls("list.fields")[-1].path.endswith(f"/list/{clickup.list_id}/field")


def test_no_list_or_a_mapped_list_gives_no_custom_fields(clickup, board):  # noqa: F811
    action = context(clickup).integration.action("create_task")
    assert action.fields_provider(context(clickup)) == []
    assert action.fields_provider(context(clickup, list="{{ steps.pick.list }}")) == []
    assert clickup.calls("list.fields") == []


def test_create_task_sends_every_custom_field_typed(clickup, board):  # noqa: F811
    keys, fields = board
    out = run(
        clickup,
        "create_task",
        list=clickup.list_id,
        name="Acme renewal",
        timezone="Asia/Seoul",
        **{
            keys["stage"]: "won",  # an option's name, whatever the case
            keys["amount"]: "12,500.50",
            keys["signed"]: "2026-12-04",
            keys["urgent"]: "yes",
            keys["site"]: "https://acme.test",
            keys["contact"]: "buyer@acme.test",
            keys["owner"]: ["grace@acme.test"],
            keys["notes"]: "Line one\nLine two",
            keys["code"]: " PO-77 ",
        },
    )
    sent = {f["id"]: f for f in clickup.calls("task.create")[-1].body["custom_fields"]}
    stage_won = fields["stage"]["type_config"]["options"][1]["id"]
    assert sent[fields["stage"]["id"]]["value"] == stage_won
    assert sent[fields["amount"]["id"]]["value"] == 12500.5
    assert sent[fields["signed"]["id"]] == {
        "id": fields["signed"]["id"],
        "value": ms(datetime(2026, 12, 4, tzinfo=SEOUL)),
        "value_options": {"time": False},
    }
    assert sent[fields["urgent"]["id"]]["value"] is True
    assert sent[fields["owner"]["id"]]["value"] == {"add": [clickup.grace]}
    assert sent[fields["code"]["id"]]["value"] == "PO-77"
    task = out["id"]
    assert clickup.field_value(task, fields["stage"]["id"]) == 1  # shown as its order index
    assert clickup.field_value(task, fields["contact"]["id"]) == "buyer@acme.test"
    assert [u["email"] for u in clickup.field_value(task, fields["owner"]["id"])] == [
        "grace@acme.test"
    ]
    assert clickup.field_value(task, fields["notes"]["id"]) == "Line one\nLine two"


def test_a_dropdown_value_that_is_no_option_names_the_options(clickup, board):  # noqa: F811
    keys, _fields = board
    error = fails(
        clickup, "create_task", list=clickup.list_id, name="x", **{keys["stage"]: "Maybe"}
    )
    assert error.permanent
    assert error.message == (
        "“Maybe” is not an option of the ClickUp field “Stage”: use one of Lead, Won, Lost."
    )
    assert clickup.calls("task.create") == []


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("amount", "a lot", "The ClickUp field “Amount” takes a number, not “a lot”."),
        ("urgent", "perhaps", "is a checkbox: give true or false"),
        ("site", "acme.test", "takes a web address starting with https://"),
        ("contact", "buyer at acme", "takes an email address"),
    ],
)
def test_a_value_of_the_wrong_kind_says_what_to_write(clickup, board, field, value, words):  # noqa: F811
    keys, _fields = board
    error = fails(clickup, "create_task", list=clickup.list_id, name="x", **{keys[field]: value})
    assert error.permanent and words in error.message
    assert clickup.calls("task.create") == []


def test_a_custom_field_the_list_lacks_says_to_pick_the_fields_again(clickup, board):  # noqa: F811
    error = fails(clickup, "create_task", list=clickup.list_id, name="x", cf_deleted="1")
    assert error.permanent and "cf_deleted" in error.message
    assert "pick the list's fields again" in error.message


def test_the_fake_refuses_what_clickup_would(clickup, board):  # noqa: F811
    """The client's own checks stand in front of ClickUp's: the fake answers a raw bad value
    with ClickUp's 400, which reaches the member in ClickUp's words."""
    _keys, fields = board
    ctx = context(clickup)
    with pytest.raises(IntegrationError) as caught, ctx.integration.errors():
        ctx.client().post(
            f"list/{clickup.list_id}/task",
            {"name": "x", "custom_fields": [{"id": fields["amount"]["id"], "value": "12"}]},
        )
    assert caught.value.permanent
    assert caught.value.message == "ClickUp refused the request: Value is not a valid number"
