"""Publish-time checks of filter conditions and of a paths step's conditions, in the words
of the editor's rows: "Condition 2: choose the value to test." Each problem names the row's
place (``conditions.1.field``, ``branches.0.conditions.1.value``): the editor's row builder
gives its inputs the same names, so a problem links to the input to fix."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from hub.mapping.conditions import MAX_GROUP_DEPTH, OPERATORS

Found = list[tuple[str, str]]


def check_conditions(value: Any, where: str, title: str = "", depth: int = 0) -> Found:
    """Problems of a condition group (a list of rows, or ``{"match", "rows"}``)."""
    if depth > MAX_GROUP_DEPTH:
        return [
            (
                _("Groups of conditions can be nested at most %(n)s deep.")
                % {"n": MAX_GROUP_DEPTH},
                where,
            )
        ]
    if isinstance(value, dict) and "rows" in value:
        if value.get("match", "all") not in ("all", "any"):
            return [(_("Choose whether all or any of the conditions must be true."), where)]
        rows = value["rows"]
    else:
        rows = value
    if not isinstance(rows, list) or not rows:
        return [(_("Add at least one condition."), where)]
    problems: Found = []
    for i, row in enumerate(rows):
        here = f"{where}.{i}"
        name = _("Condition %(n)s") % {"n": i + 1}
        name = f"{title}, {name.lower()}" if title else name
        if isinstance(row, list) or (isinstance(row, dict) and "rows" in row):
            problems += check_conditions(row, here, name, depth + 1)
        elif not isinstance(row, dict):
            problems.append(
                (_("%(name)s is not a row of value, test and comparison.") % {"name": name}, here)
            )
        elif row.get("op") not in OPERATORS:
            problems.append(
                (_("%(name)s: choose how to test the value.") % {"name": name}, f"{here}.op")
            )
        elif row.get("field") in (None, ""):
            problems.append(
                (_("%(name)s: choose the value to test.") % {"name": name}, f"{here}.field")
            )
        elif OPERATORS[row["op"]].needs_value and row.get("value") in (None, ""):
            message = _("%(name)s: type what to compare with (or test whether it “is empty”).")
            problems.append((message % {"name": name}, f"{here}.value"))
    return problems


def check_branches(value: Any, where: str) -> Found:
    """The conditions of each path (names and steps are checked with the recipe's order)."""
    if not isinstance(value, list):
        return []
    problems: Found = []
    for b, branch in enumerate(value):
        if isinstance(branch, dict) and branch.get("conditions"):
            title = _("Path “%(name)s”") % {"name": branch.get("name") or b + 1}
            problems += check_conditions(branch["conditions"], f"{where}.{b}.conditions", title)
    return problems
