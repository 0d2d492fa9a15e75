"""What the richer field and output declarations mean at publish time: multi-select choices,
list rows with a schema, fields that refuse ``{{ }}``, nested outputs and outputs only a
connection knows. Each problem names the step and the field, in English and Korean."""

from __future__ import annotations

import pytest
from django.utils import translation

from hub.recipes import format as recipe_format
from integrations import registry
from integrations.base import Action, Choice, Context, Field, OutputField

COLOURS = (Choice("red", "Red"), Choice("green", "Green"), Choice("blue", "Blue"))

DECLARE = Action(
    key="declare",
    label="Declare",
    run=lambda ctx: {},
    effect="read",
    fields=(
        Field("labels", "Labels", kind="choice", multiple=True, choices=COLOURS),
        Field(
            "mode",
            "Mode",
            kind="choice",
            choices=(Choice("fast", "Fast"), Choice("slow", "Slow")),
            accepts_references=False,
        ),
        Field(
            "filters",
            "Filters",
            kind="list",
            row=(
                Field("property", "Property", required=True),
                Field(
                    "operator",
                    "Operator",
                    kind="choice",
                    choices=(Choice("equals", "equals"), Choice("contains", "contains")),
                    accepts_references=False,
                ),
                Field("value", "Value"),
                Field("tags", "Tags", kind="choice", multiple=True, choices=COLOURS),
            ),
        ),
    ),
    outputs=(
        OutputField(
            "items",
            "Items",
            kind="list",
            children=(OutputField("name", "Name"), OutputField("size", "Size", kind="number")),
        ),
        OutputField("owner", "Owner", kind="json", children=(OutputField("email", "Email"),)),
    ),
    sample={"items": [{"name": "a", "size": 1}], "owner": {"email": "a@b.test"}},
)

PROVIDED = Action(
    key="provided",
    label="Provided",
    run=lambda ctx: {},
    effect="read",
    outputs=(OutputField("id", "ID"),),
    sample={"id": "p1"},
    outputs_provider=lambda ctx: (OutputField("Due date", "Due date", kind="date"),),
)


class _Declared:
    slug = "declared"
    name = "Declared"
    oauth = None
    uses_api_key = False
    actions = {DECLARE.key: DECLARE, PROVIDED.key: PROVIDED}
    triggers = {}


@pytest.fixture
def declared(monkeypatch):
    registry.get.cache_clear()
    original = registry.get.__wrapped__
    monkeypatch.setattr(
        registry, "get", lambda slug: _Declared() if slug == "declared" else original(slug)
    )


def problems(*steps: dict) -> list[str]:
    document = recipe_format.normalize(
        {"format": recipe_format.FORMAT, "name": "R", "steps": list(steps)}
    )
    return [str(p) for p in recipe_format.validate(document)]


def step(config: dict, key: str = "s", action: str = "declare") -> dict:
    return {"key": key, "app": "declared", "action": action, "config": config}


def test_well_formed_values_pass(declared):
    config = {
        "labels": ["red", "blue"],
        "mode": "fast",
        "filters": [{"property": "Name", "operator": "equals", "value": "x", "tags": ["green"]}],
    }
    assert problems(step(config)) == []


def test_a_multi_choice_is_a_list_of_allowed_values(declared):
    assert problems(step({"labels": "red"})) == [
        "In step “s”, field “labels”: “Labels” takes a list of choices."
    ]
    assert problems(step({"labels": ["red", "purple"]})) == [
        "In step “s”, field “labels.1”: “purple” is not one of the choices of “Labels”."
    ]


def test_a_multi_choice_may_be_a_reference_to_a_list(declared):
    first = step({"labels": ["red"]}, key="first")
    second = step({"labels": "{{ steps.first.items | pluck:name }}"}, key="second")
    assert problems(first, second) == []
    assert problems(step({"labels": ["red", "{{ run.recipe }}"]})) == []


def test_a_field_that_takes_no_references_refuses_them(declared):
    assert problems(step({"mode": "{{ run.recipe }}"})) == [
        "In step “s”, field “mode”: “Mode” takes a value as typed: it cannot use {{ }}."
    ]


def test_list_rows_follow_their_schema(declared):
    found = problems(
        step(
            {
                "filters": [
                    {"operator": "equals"},
                    {"property": "Name", "colour": "red"},
                    "Name equals x",
                    {"property": "Size", "operator": "{{ run.recipe }}", "tags": ["pink"]},
                ]
            }
        )
    )
    assert found == [
        "In step “s”, field “filters.0.property”: “Property” is required.",
        "In step “s”, field “filters.1.colour”: “Filters” rows have no such column.",
        "In step “s”, field “filters.2”: Each row of “Filters” is an object.",
        "In step “s”, field “filters.3.operator”: “Operator” takes a value as typed: it cannot "
        "use {{ }}.",
        "In step “s”, field “filters.3.tags.0”: “pink” is not one of the choices of “Tags”.",
    ]
    assert problems(step({"filters": "Name"})) == [
        "In step “s”, field “filters”: “Filters” takes a list of rows."
    ]


def test_the_messages_read_in_korean(declared):
    with translation.override("ko"):
        found = problems(step({"labels": "red", "mode": "{{ run.recipe }}"}))
    assert len(found) == 2
    assert all("Labels" in f or "Mode" in f for f in found)
    assert "선택" in found[0] and "{{ }}" in found[1]


def test_nested_outputs_are_checked_through_their_children(declared):
    first = step({}, key="first")
    ok = step({"filters": [{"property": "{{ steps.first.items.0.name }}"}]}, key="ok")
    assert problems(first, ok) == []
    owner = step({"filters": [{"property": "{{ steps.first.owner.email }}"}]}, key="owner")
    assert problems(first, owner) == []
    bad = step({"filters": [{"property": "{{ steps.first.items.0.colour }}"}]}, key="bad")
    assert "steps.first.items.0.colour" in problems(first, bad)[0]


def test_provided_outputs_are_open_to_any_key_and_static_ones_stay_known(declared):
    first = step({}, key="first", action="provided")
    later = step({"filters": [{"property": '{{ steps.first["Due date"] }}'}]}, key="later")
    assert problems(first, later) == []
    static = step({"filters": [{"property": "{{ steps.first.id }}"}]}, key="static")
    assert problems(first, static) == []
    assert [o.key for o in PROVIDED.outputs_for(Context(workspace_id=1))] == ["id", "Due date"]
