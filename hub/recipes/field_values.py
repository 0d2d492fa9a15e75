"""Publish-time checks of a step's values against what each field declares: a multi-select
holds a list of its choices, a list with a row schema holds rows of known sub-fields, and a
field that takes no references holds no ``{{ }}``. ``hub.recipes.format.validate`` calls
``check_field`` for every declared field and turns each (message, dotted field) it gives,
such as ``filters.0.property``, into a problem of the step."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from hub.recipes import condition_checks
from integrations.base import Field

Found = list[tuple[str, str]]


def check_field(f: Field, value: Any, where: str | None = None) -> Found:
    """(message, dotted field) for each problem of ``value`` in field ``f``; ``where`` is the
    field's dotted place in the config."""
    where = where or f.key
    if value is None:
        return []
    if not f.accepts_references and _has_reference(value):
        message = _("“%(label)s” takes a value as typed: it cannot use {{ }}.")
        return [(message % {"label": f.label}, where)]
    if _is_reference(value):
        # A whole reference may give a list (or rows) when the run gets there.
        return []
    if f.builder == "conditions":
        return condition_checks.check_conditions(value, where)
    if f.builder == "paths":
        return condition_checks.check_branches(value, where)
    if f.kind == "choice" and f.multiple:
        return _check_multiple(f, value, where)
    if f.kind == "list" and f.row:
        return _check_rows(f, value, where)
    return []


def _check_multiple(f: Field, value: Any, where: str) -> Found:
    if not isinstance(value, list):
        message = _("“%(label)s” takes a list of choices.") % {"label": f.label}
        return [(message, where)]
    allowed = {c.value for c in f.choices}
    problems: Found = []
    for i, item in enumerate(value):
        # Live choices are only known through the connection; references are filled in later.
        if not allowed or _has_reference(item):
            continue
        if not isinstance(item, str) or item not in allowed:
            message = _("“%(value)s” is not one of the choices of “%(label)s”.")
            problems.append((message % {"value": item, "label": f.label}, f"{where}.{i}"))
    return problems


def _check_rows(f: Field, value: Any, where: str) -> Found:
    if not isinstance(value, list):
        message = _("“%(label)s” takes a list of rows.") % {"label": f.label}
        return [(message, where)]
    problems: Found = []
    for i, row in enumerate(value):
        here = f"{where}.{i}"
        if not isinstance(row, dict):
            message = _("Each row of “%(label)s” is an object.") % {"label": f.label}
            problems.append((message, here))
            continue
        for key in row:
            if f.sub_field(key) is None:
                message = _("“%(label)s” rows have no such column.") % {"label": f.label}
                problems.append((message, f"{here}.{key}"))
        for sub in f.row:
            cell = row.get(sub.key, sub.default)
            if sub.required and cell in (None, "", [], {}):
                message = _("“%(label)s” is required.") % {"label": sub.label}
                problems.append((message, f"{here}.{sub.key}"))
                continue
            problems += check_field(sub, cell, f"{here}.{sub.key}")
    return problems


def _is_reference(value: Any) -> bool:
    text = value.strip() if isinstance(value, str) else ""
    return text.startswith("{{") and text.endswith("}}")


def _has_reference(value: Any) -> bool:
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str) and "{{" in node:
            return True
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False
