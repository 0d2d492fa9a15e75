"""Conditions as structured rows, never expressions.

A row compares a rendered value with an operator and a value the member typed::

    {"field": "{{ trigger.subject }}", "op": "contains", "value": "invoice"}

Rows are grouped — ``{"match": "all" | "any", "rows": [...]}`` — and groups can hold groups,
so "(A and B) or C" is ``{"match": "any", "rows": [{"match": "all", "rows": [A, B]}, C]}``.
A bare list of rows means all of them. Conditions are evaluated after mapping, so ``field``
and ``value`` hold plain values.

Text comparisons ignore case unless a row (or the whole evaluation) sets
``"case_sensitive": true``. ``greater_than`` and ``less_than`` compare numbers, or dates when
both sides read as ISO-8601 dates; anything else does not pass, and the explanation says why.

Regular expressions are deliberately not offered: Python's ``re`` has no time limit, and a
member's pattern could backtrack for minutes on a long email body.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hub.mapping.values import parse_datetime, to_text

MAX_GROUP_DEPTH = 5
MAX_ROWS = 200


class ConditionError(ValueError):
    """The conditions themselves are malformed (unknown operator, missing field)."""


@dataclass(frozen=True)
class Operator:
    key: str
    label: str
    needs_value: bool = True


OPERATORS: dict[str, Operator] = {
    op.key: op
    for op in (
        Operator("equals", "is"),
        Operator("not_equals", "is not"),
        Operator("contains", "contains"),
        Operator("not_contains", "does not contain"),
        Operator("starts_with", "starts with"),
        Operator("ends_with", "ends with"),
        Operator("is_empty", "is empty", needs_value=False),
        Operator("is_not_empty", "is not empty", needs_value=False),
        Operator("greater_than", "is greater than"),
        Operator("less_than", "is less than"),
        Operator("is_true", "is true", needs_value=False),
        Operator("is_false", "is false", needs_value=False),
        Operator("in_list", "is one of"),
    )
}


@dataclass(frozen=True)
class RowResult:
    field: Any
    op: str
    value: Any
    passed: bool
    reason: str


@dataclass
class Result:
    passed: bool
    rows: list[RowResult] = field(default_factory=list)
    explanation: str = ""


def evaluate(conditions: Any, *, case_sensitive: bool = False) -> Result:
    """Evaluate rendered conditions. Raises ``ConditionError`` if they are malformed."""
    problems = validate(conditions)
    if problems:
        raise ConditionError(problems[0])
    rows: list[RowResult] = []
    passed, failing = _group(_as_group(conditions), case_sensitive, rows)
    if passed:
        return Result(True, rows, "The conditions passed.")
    return Result(False, rows, _explain(failing))


def validate(conditions: Any) -> list[str]:
    """Problems with the shape of the conditions, for publish-time checks."""
    problems: list[str] = []
    count = [0]

    def walk(node: Any, depth: int, where: str) -> None:
        if depth > MAX_GROUP_DEPTH:
            problems.append(f"{where}: groups can be nested at most {MAX_GROUP_DEPTH} deep.")
            return
        if isinstance(node, list):
            node = {"match": "all", "rows": node}
        if not isinstance(node, dict):
            problems.append(f"{where}: expected a condition row or a group.")
            return
        if "rows" in node:
            if node.get("match", "all") not in ("all", "any"):
                problems.append(f"{where}: “match” must be “all” or “any”.")
            rows = node["rows"]
            if not isinstance(rows, list) or not rows:
                problems.append(f"{where}: a group needs at least one condition.")
                return
            for i, row in enumerate(rows, 1):
                walk(row, depth + 1, f"{where}, condition {i}" if where else f"Condition {i}")
            return
        count[0] += 1
        if count[0] > MAX_ROWS:
            if count[0] == MAX_ROWS + 1:
                problems.append(f"There can be at most {MAX_ROWS} conditions.")
            return
        op = node.get("op")
        label = where or "Condition"
        if op not in OPERATORS:
            known = ", ".join(OPERATORS)
            problems.append(f"{label}: “{op}” is not an operator; use one of {known}.")
            return
        if "field" not in node:
            problems.append(f"{label}: choose the value to test.")
        if OPERATORS[op].needs_value and "value" not in node:
            problems.append(f"{label}: “{OPERATORS[op].label}” needs a value to compare with.")

    walk(conditions, 0, "")
    return problems


def _as_group(node: Any) -> dict[str, Any]:
    if isinstance(node, list):
        return {"match": "all", "rows": node}
    if isinstance(node, dict) and "rows" in node:
        return node
    return {"match": "all", "rows": [node]}


def _group(
    group: dict[str, Any], case_sensitive: bool, out: list[RowResult]
) -> tuple[bool, list[RowResult]]:
    """Whether the group passes, and the rows to blame when it does not."""
    match_any = group.get("match", "all") == "any"
    blame: list[RowResult] = []
    for node in group["rows"]:
        if isinstance(node, list) or (isinstance(node, dict) and "rows" in node):
            passed, failing = _group(_as_group(node), case_sensitive, out)
        else:
            result = _row(node, case_sensitive)
            out.append(result)
            passed, failing = result.passed, [result]
        if passed and match_any:
            return True, []
        if not passed:
            if not match_any:
                return False, failing
            blame.extend(failing)
    return (not match_any), blame


def _explain(failing: list[RowResult]) -> str:
    reasons = [r.reason for r in failing][:10]
    if len(reasons) == 1:
        return f"Stopped because {reasons[0]}."
    return "Stopped because none of the conditions passed: " + "; ".join(reasons) + "."


def _show(value: Any) -> str:
    text = to_text(value) if not isinstance(value, list | dict) else _short_json(value)
    if len(text) > 80:
        text = text[:79] + "…"
    return f"“{text}”"


def _short_json(value: Any) -> str:
    try:
        return to_text(value)
    except ValueError:
        return "(a large value)"


def _row(row: dict[str, Any], case_sensitive: bool) -> RowResult:
    op = OPERATORS[row["op"]]
    actual = row.get("field")
    expected = row.get("value")
    sensitive = bool(row.get("case_sensitive", case_sensitive))
    passed, why = _CHECKS[op.key](actual, expected, sensitive)
    wanted = f" {_show(expected)}" if op.needs_value else ""
    verb = op.label if passed else _negate(op)
    reason = why or f"{_show(actual)} {verb}{wanted}"
    return RowResult(actual, op.key, expected, passed, reason)


def _negate(op: Operator) -> str:
    return {
        "equals": "is not",
        "not_equals": "is",
        "contains": "does not contain",
        "not_contains": "contains",
        "starts_with": "does not start with",
        "ends_with": "does not end with",
        "is_empty": "is not empty",
        "is_not_empty": "is empty",
        "greater_than": "is not greater than",
        "less_than": "is not less than",
        "is_true": "is not true",
        "is_false": "is not false",
        "in_list": "is not one of",
    }[op.key]


# --------------------------------------------------------------------------- comparisons

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_TRUE = {"true", "yes", "y", "1", "on", "checked"}
_FALSE = {"false", "no", "n", "0", "off", "unchecked", ""}


def as_number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        if len(text) <= 100 and _NUMBER.fullmatch(text):
            return float(text)
    return None


def as_date(value: Any) -> datetime | None:
    if not isinstance(value, str) or not re.match(r"\s*\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        return None


def _text(value: Any, sensitive: bool) -> str:
    text = _short_json(value) if isinstance(value, list | dict) else to_text(value)
    text = text.strip()
    return text if sensitive else text.casefold()


def _equals(a: Any, b: Any, sensitive: bool) -> tuple[bool, str]:
    na, nb = as_number(a), as_number(b)
    if na is not None and nb is not None:
        return na == nb, ""
    if isinstance(a, bool) or isinstance(b, bool):
        ta, tb = _truth(a), _truth(b)
        if ta is not None and tb is not None:
            return ta == tb, ""
    return _text(a, sensitive) == _text(b, sensitive), ""


def _contains(a: Any, b: Any, sensitive: bool) -> tuple[bool, str]:
    if isinstance(a, list):
        return any(_equals(item, b, sensitive)[0] for item in a), ""
    return _text(b, sensitive) in _text(a, sensitive), ""


def _is_empty(a: Any, _b: Any, _s: bool) -> tuple[bool, str]:
    if a is None:
        return True, ""
    if isinstance(a, str):
        return not a.strip(), ""
    if isinstance(a, list | dict):
        return not a, ""
    return False, ""


def _compare(sign: int) -> Callable[[Any, Any, bool], tuple[bool, str]]:
    def check(a: Any, b: Any, _s: bool) -> tuple[bool, str]:
        na, nb = as_number(a), as_number(b)
        if na is not None and nb is not None:
            return (na - nb) * sign > 0, ""
        da, db = as_date(a), as_date(b)
        if da is not None and db is not None:
            return ((da > db) if sign > 0 else (da < db)), ""
        return False, (
            f"{_show(a)} and {_show(b)} cannot be compared: they are not both numbers or dates"
        )

    return check


def _truth(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        text = value.strip().casefold()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    return None


def _is_true(a: Any, _b: Any, _s: bool) -> tuple[bool, str]:
    return _truth(a) is True, ""


def _is_false(a: Any, _b: Any, _s: bool) -> tuple[bool, str]:
    return _truth(a) is False, ""


def _in_list(a: Any, b: Any, sensitive: bool) -> tuple[bool, str]:
    options = b if isinstance(b, list) else re.split(r"[,\n]", to_text(b))
    return any(_equals(a, option, sensitive)[0] for option in options), ""


def _not(check: Callable[[Any, Any, bool], tuple[bool, str]]):
    def negated(a: Any, b: Any, sensitive: bool) -> tuple[bool, str]:
        passed, why = check(a, b, sensitive)
        return (not passed), why

    return negated


_CHECKS: dict[str, Callable[[Any, Any, bool], tuple[bool, str]]] = {
    "equals": _equals,
    "not_equals": _not(_equals),
    "contains": _contains,
    "not_contains": _not(_contains),
    "starts_with": lambda a, b, s: (_text(a, s).startswith(_text(b, s)), ""),
    "ends_with": lambda a, b, s: (_text(a, s).endswith(_text(b, s)), ""),
    "is_empty": _is_empty,
    "is_not_empty": _not(_is_empty),
    "greater_than": _compare(1),
    "less_than": _compare(-1),
    "is_true": _is_true,
    "is_false": _is_false,
    "in_list": _in_list,
}
