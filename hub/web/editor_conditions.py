"""The row builder of filter conditions and of a paths step's branches.

A field declared with ``builder="conditions"`` or ``builder="paths"`` holds JSON of a known
shape (``hub.mapping.conditions``); the editor shows it as rows — field · operator · value,
matched all or any — and reads the rows back into exactly the JSON a recipe file holds, so
the file format does not change. What rows cannot show (groups inside groups, keys the
builder does not know) stays in the text form, with a sentence saying why; a member may
also switch to the text form at will.

Form names, for a field posted as ``config.conditions``::

    builder.config.conditions          "rows" or "text": which form is on the page
    config.conditions                  the text form's JSON
    config.conditions.match            "all" or "any"
    rows.config.conditions             how many rows were shown
    config.conditions.<i>.field / .op / .value
    add_row=config.conditions          the "Add condition" button
    remove.config.conditions.<i>       a row's "Remove" button
    switch.config.conditions           "text" or "rows": switch the form

A paths field (``config.branches``) has ``rows.config.branches`` branches, each with
``.name``, ``.steps`` (checkboxes of the later steps) and a condition group named
``config.branches.<b>.conditions`` as above.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hub.mapping.conditions import OPERATORS
from integrations.base import Field

MAX_ROWS = 50
MAX_BRANCHES = 20
ROW_KEYS = {"field", "op", "value", "case_sensitive"}
BRANCH_KEYS = {"name", "match", "conditions", "steps"}

# The mapping language has no translations (it imports nothing from Django): its operators'
# plain words for the editor live here, one per operator key.
OPERATOR_WORDS = {
    "equals": gettext_lazy("is"),
    "not_equals": gettext_lazy("is not"),
    "contains": gettext_lazy("contains"),
    "not_contains": gettext_lazy("does not contain"),
    "starts_with": gettext_lazy("starts with"),
    "ends_with": gettext_lazy("ends with"),
    "is_empty": gettext_lazy("is empty"),
    "is_not_empty": gettext_lazy("is not empty"),
    "greater_than": gettext_lazy("is greater than"),
    "less_than": gettext_lazy("is less than"),
    "is_true": gettext_lazy("is true (yes, checked)"),
    "is_false": gettext_lazy("is false (no, unchecked)"),
    "in_list": gettext_lazy("is one of (separate with commas)"),
}
DEFAULT_OP = "equals"


@dataclass
class Row:
    id: str
    name: str
    field: str = ""
    op: str = DEFAULT_OP
    value: str = ""
    needs_value: bool = True
    focus: bool = False


@dataclass
class Group:
    id: str
    name: str
    match: str = "all"
    rows: list[Row] = field(default_factory=list)
    focus_add: bool = False


@dataclass
class Branch:
    id: str
    name: str
    label: str
    group: Group
    steps: list[dict] = field(default_factory=list)
    focus: bool = False


def operators() -> list[dict]:
    return [
        {"key": key, "label": str(OPERATOR_WORDS[key]), "needs_value": op.needs_value}
        for key, op in OPERATORS.items()
    ]


# ---------------------------------------------------------------- what rows can show


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _row_fits(row: Any) -> bool:
    return (
        isinstance(row, dict)
        and set(row) <= ROW_KEYS
        and isinstance(row.get("field", ""), str)
        and row.get("op", DEFAULT_OP) in OPERATORS
        and (
            _scalar(row.get("value"))
            or (isinstance(row["value"], list) and all(_scalar(v) for v in row["value"]))
        )
    )


def condition_rows(value: Any) -> tuple[str, list[dict]] | None:
    """(match, rows) when the rows can show ``value``; None when only the text form can."""
    if value is None:
        return "all", []
    if isinstance(value, list):
        match, rows = "all", value
    elif isinstance(value, dict) and set(value) <= {"match", "rows"} and "rows" in value:
        match, rows = value.get("match", "all"), value["rows"]
    else:
        return None
    if match not in ("all", "any") or not isinstance(rows, list) or len(rows) > MAX_ROWS:
        return None
    return (match, rows) if all(_row_fits(r) for r in rows) else None


def branch_list(value: Any) -> list[dict] | None:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_BRANCHES:
        return None
    for branch in value:
        if not isinstance(branch, dict) or not set(branch) <= BRANCH_KEYS:
            return None
        if not isinstance(branch.get("name", ""), str):
            return None
        if branch.get("match", "all") not in ("all", "any"):
            return None
        conditions = branch.get("conditions") or []
        if not isinstance(conditions, list) or condition_rows(conditions) is None:
            return None
        steps = branch.get("steps", [])
        if not isinstance(steps, list) or not all(isinstance(s, str) for s in steps):
            return None
    return value


def fits(f: Field, value: Any) -> bool:
    if f.builder == "paths":
        return branch_list(value) is not None
    return condition_rows(value) is not None


def why_text(f: Field) -> str:
    if f.builder == "paths":
        return _(
            "These paths use groups inside groups or settings the rows cannot show: "
            "edit them as text."
        )
    return _(
        "These conditions use groups inside groups or settings the rows cannot show: "
        "edit them as text."
    )


def value_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(value_text(v) for v in value)
    return str(value)


# ---------------------------------------------------------------- rows for the page


def _focus_row(ui: dict, name: str, count: int) -> int | None:
    """Which row of group ``name`` takes focus after this change: the added one, or the
    one that took the removed one's place."""
    if ui.get("added") == name:
        return count - 1
    removed = ui.get("removed")
    if removed and removed[0] == name and count:
        return min(removed[1], count - 1)
    return None


def group(id: str, name: str, match: str, rows: list[dict], ui: dict, blank: bool) -> Group:
    shown = rows or ([{}] if blank else [])
    g = Group(id=id, name=name, match=match)
    focus = _focus_row(ui, name, len(shown))
    for i, row in enumerate(shown):
        op = row.get("op", DEFAULT_OP)
        g.rows.append(
            Row(
                id=f"{id}-{i}",
                name=f"{name}.{i}",
                field=row.get("field", ""),
                op=op,
                value=value_text(row.get("value")),
                needs_value=OPERATORS[op].needs_value,
                focus=focus == i,
            )
        )
    removed = ui.get("removed")
    g.focus_add = bool(removed and removed[0] == name and not shown)
    return g


def branches(id: str, name: str, value: list[dict], later: list[tuple[str, str]], ui: dict):
    shown = value or [{"name": _("Path %(n)s") % {"n": 1}}]
    out = []
    focus = _focus_row(ui, name, len(shown))
    for b, branch in enumerate(shown):
        chosen = set(branch.get("steps") or [])
        conditions = branch.get("conditions") or []
        out.append(
            Branch(
                id=f"{id}-{b}",
                name=f"{name}.{b}",
                label=branch.get("name", ""),
                group=group(
                    f"{id}-{b}-conditions",
                    f"{name}.{b}.conditions",
                    branch.get("match", "all"),
                    conditions,
                    ui,
                    blank=not value,
                ),
                steps=[
                    {"value": key, "label": label, "checked": key in chosen} for key, label in later
                ]
                + [
                    # A step no longer after this one stays listed, so unticking it is a choice.
                    {"value": key, "label": key, "checked": True}
                    for key in branch.get("steps") or []
                    if key not in dict(later)
                ],
                focus=focus == b,
            )
        )
    return out


# ---------------------------------------------------------------- reading the form back


def _count(post, name: str, cap: int) -> int:
    raw = post.get(f"rows.{name}", "")
    return min(int(raw), cap) if raw.isdigit() else 0


def _kept(text: str, old: Any) -> Any:
    """The typed text, or the old value when the text shows it unchanged (a number or a
    list stays one)."""
    return old if old is not None and value_text(old) == text else text


def read_group(post, name: str, old_rows: list) -> tuple[str, list[dict]]:
    match = "any" if post.get(f"{name}.match") == "any" else "all"
    rows = []
    for i in range(_count(post, name, MAX_ROWS)):
        prefix = f"{name}.{i}"
        if post.get(f"remove.{prefix}"):
            continue
        old = old_rows[i] if i < len(old_rows) and isinstance(old_rows[i], dict) else {}
        op = post.get(f"{prefix}.op", DEFAULT_OP)
        op = op if op in OPERATORS else DEFAULT_OP
        text = post.get(f"{prefix}.field", "").strip()
        value = post.get(f"{prefix}.value", "")
        needs = OPERATORS[op].needs_value
        if not text and not (needs and value.strip()):
            continue  # a blank row says nothing
        row = {"field": text, "op": op}
        if needs:
            row["value"] = _kept(value, old.get("value"))
        if "case_sensitive" in old:
            row["case_sensitive"] = old["case_sensitive"]
        rows.append(row)
    if post.get("add_row") == name and len(rows) < MAX_ROWS:
        rows.append({"field": "", "op": DEFAULT_OP, "value": ""})
    return match, rows


def _conditions_value(match: str, rows: list[dict], old: Any) -> Any:
    if not rows:
        return None
    # Keep the form the value had: a bare list means "all of them".
    if match == "all" and not isinstance(old, dict):
        return rows
    return {"match": match, "rows": rows}


def read_branches(post, name: str, old: Any) -> list[dict] | None:
    old_list = old if isinstance(old, list) else []
    out = []
    for b in range(_count(post, name, MAX_BRANCHES)):
        prefix = f"{name}.{b}"
        if post.get(f"remove.{prefix}"):
            continue
        previous = old_list[b] if b < len(old_list) and isinstance(old_list[b], dict) else {}
        match, rows = read_group(post, f"{prefix}.conditions", previous.get("conditions") or [])
        branch: dict[str, Any] = {"name": post.get(f"{prefix}.name", "").strip()[:100]}
        if match == "any" or "match" in previous:
            branch["match"] = match
        branch["conditions"] = rows
        steps = [s for s in post.getlist(f"{prefix}.steps") if s]
        if steps or "steps" in previous:
            branch["steps"] = steps
        if branch["name"] or rows or steps:
            out.append(branch)
    if post.get("add_row") == name and len(out) < MAX_BRANCHES:
        out.append({"name": _("Path %(n)s") % {"n": len(out) + 1}, "conditions": []})
    return out or None


def read(f: Field, post, name: str, old: Any) -> tuple[Any, str]:
    """(value, error) of a builder field from the posted form, rows or text."""
    mode = post.get(f"builder.{name}")
    if mode == "text" or (mode is None and name in post):
        raw = post.get(name)
        if raw is None or not raw.strip():
            return None, ""
        try:
            return json.loads(raw), ""
        except json.JSONDecodeError as error:
            message = _("This is not valid JSON: look at line %(line)s, column %(column)s.")
            return old, message % {"line": error.lineno, "column": error.colno}
    if mode != "rows" or not fits(f, old):
        return old, ""
    if f.builder == "paths":
        return read_branches(post, name, old), ""
    match, rows = read_group(post, name, condition_rows(old)[1])
    return _conditions_value(match, rows, old), ""


def ui_of(post) -> dict:
    """What the last change asks of the next rendering: the text form kept or switched to,
    and which row takes focus."""
    text = {n.removeprefix("builder.") for n in post if n.startswith("builder.")}
    text = {n for n in text if post.get(f"builder.{n}") == "text"}
    switched = {}
    for n in post:
        if n.startswith("switch."):
            switched[n.removeprefix("switch.")] = post[n]
    text = {n for n in text if switched.get(n) != "rows"} | {
        n for n, mode in switched.items() if mode == "text"
    }
    ui: dict[str, Any] = {"text": text, "switched": set(switched)}
    if post.get("add_row"):
        ui["added"] = post["add_row"]
    for n in post:
        if n.startswith("remove."):
            prefix, _dot, index = n.removeprefix("remove.").rpartition(".")
            if index.isdigit():
                ui["removed"] = (prefix, int(index))
    return ui
