from __future__ import annotations

import pytest

from hub.mapping.conditions import OPERATORS, ConditionError, evaluate, validate
from integrations.base import Context, IntegrationError, StopRun
from integrations.builtin.filter import ACTION


def ctx(conditions, **config):
    return Context(workspace_id=1, config={"conditions": conditions, **config})


def row(field, op, value=None):
    out = {"field": field, "op": op}
    if value is not None:
        out["value"] = value
    return out


def test_passing_filter_outputs_passed():
    assert ACTION.run(ctx([row("Invoice 42", "contains", "invoice")])) == {"passed": True}


def test_failing_filter_stops_with_values():
    with pytest.raises(StopRun) as info:
        ACTION.run(ctx([row("Receipt 9", "contains", "invoice")]))
    assert info.value.reason == "Stopped because “Receipt 9” does not contain “invoice”."


def test_all_group_names_the_first_failing_row():
    conditions = {
        "match": "all",
        "rows": [row("a@x.com", "ends_with", "x.com"), row(3, "greater_than", 5)],
    }
    with pytest.raises(StopRun, match="“3” is not greater than “5”"):
        ACTION.run(ctx(conditions))


def test_or_of_ands():
    conditions = {
        "match": "any",
        "rows": [
            {"match": "all", "rows": [row("x", "equals", "y"), row("1", "equals", 1)]},
            {"match": "all", "rows": [row("VIP", "equals", "vip"), row("", "is_empty")]},
        ],
    }
    assert evaluate(conditions).passed
    conditions["rows"][1]["rows"][1] = row("full", "is_empty")
    result = evaluate(conditions)
    assert not result.passed
    assert "none of the conditions passed" in result.explanation
    assert "“x” is not “y”" in result.explanation
    assert "“full” is not empty" in result.explanation


@pytest.mark.parametrize(
    ("field", "op", "value", "passed"),
    [
        ("Hello", "equals", "hello", True),
        ("5", "equals", 5.0, True),
        (True, "equals", "true", True),
        ("Hello", "not_equals", "hello", False),
        ("Hello World", "contains", "WORLD", True),
        (["a", "B"], "contains", "b", True),
        (["a", "B"], "not_contains", "c", True),
        ("Hello", "starts_with", "he", True),
        ("Hello", "ends_with", "LO", True),
        (None, "is_empty", None, True),
        ("  ", "is_empty", None, True),
        ([], "is_empty", None, True),
        ({}, "is_not_empty", None, False),
        (0, "is_not_empty", None, True),
        ("1,200", "greater_than", "999", True),
        (10, "less_than", 2, False),
        ("2024-05-02", "greater_than", "2024-05-01T23:00:00Z", True),
        ("2024-05-01T10:00:00+09:00", "less_than", "2024-05-01T02:00:00Z", True),
        ("abc", "greater_than", 3, False),
        ("yes", "is_true", None, True),
        (1, "is_true", None, True),
        ("no", "is_false", None, True),
        (None, "is_false", None, True),
        ("maybe", "is_true", None, False),
        ("maybe", "is_false", None, False),
        ("b", "in_list", "a, b, c", True),
        ("B", "in_list", ["a", "b"], True),
        ("d", "in_list", "a,b,c", False),
    ],
)
def test_operators(field, op, value, passed):
    assert evaluate(row(field, op, value)).passed is passed


def test_case_sensitive_option():
    assert not evaluate(row("Hello", "equals", "hello"), case_sensitive=True).passed
    rule = {**row("Hello", "contains", "hello"), "case_sensitive": True}
    assert not evaluate([rule]).passed
    with pytest.raises(StopRun):
        ACTION.run(ctx([row("Hello", "equals", "hello")], case_sensitive=True))


def test_incomparable_values_explain_themselves():
    result = evaluate(row("abc", "greater_than", 3))
    assert "cannot be compared" in result.explanation


def test_malformed_conditions_are_permanent_errors():
    assert validate([{"field": "x", "op": "matches_regex", "value": ".*"}])
    assert validate({"match": "some", "rows": [row("a", "equals", "a")]})
    assert validate({"match": "all", "rows": []})
    assert validate([{"op": "equals", "value": "a"}])
    assert validate([{"field": "a", "op": "equals"}])
    with pytest.raises(ConditionError):
        evaluate([{"field": "x", "op": "nope"}])
    with pytest.raises(IntegrationError) as info:
        ACTION.run(ctx([{"field": "x", "op": "nope"}]))
    assert info.value.permanent
    with pytest.raises(IntegrationError):
        ACTION.run(ctx([]))


def test_nesting_is_bounded():
    node = row("a", "equals", "a")
    for _ in range(50):
        node = {"match": "all", "rows": [node]}
    assert validate(node)


def test_operator_registry_has_labels():
    assert set(OPERATORS) >= {"equals", "contains", "is_empty", "greater_than", "in_list"}
    assert "matches_regex" not in OPERATORS
    assert ACTION.key == "filter" and ACTION.field("conditions").kind == "json"
