"""The editor's form controls, read from the fields an action or trigger declares — and the
posted form read back into a step's config. Nothing here knows any app: a field's kind,
choices, ``multiple``, ``row`` and ``depends_on`` decide the control.

Controls are native (input, textarea, select, checkboxes) with labels; ``static/hub/editor.js``
adds the live-picker search, paging and Refresh to a select that has a choices address, and
the Insert data picker beside text controls.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _

from hub.engine import secrets
from hub.web import editor_conditions
from integrations.base import Field

TEXT_KINDS = {"text", "long_text", "number", "date"}
MAX_ROWS = 50


@dataclass
class Control:
    key: str
    id: str
    name: str
    label: str
    widget: str
    help: str = ""
    required: bool = False
    placeholder: str = ""
    value: Any = ""
    choices: list[dict] = field(default_factory=list)
    choices_url: str = ""
    insertable: bool = False
    rows: list[list[Control]] = field(default_factory=list)
    error: str = ""
    secret_state: str = ""
    depends_on: tuple[str, ...] = ()
    timezone: bool = False
    # The row builder (filter conditions, paths): see hub/web/editor_conditions.py.
    builder: str = ""
    group: editor_conditions.Group | None = None
    branches: list[editor_conditions.Branch] = field(default_factory=list)
    operators: list[dict] = field(default_factory=list)
    text_reason: str = ""
    focus: bool = False


def is_reference(value: Any) -> bool:
    return isinstance(value, str) and "{{" in value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, indent=2)
    return str(value)


def choices_url(place: dict, path: str, config: dict, f: Field) -> str:
    """The choices endpoint's address for field ``path`` (``list.sub`` for a row column)."""
    params = {"app": place["app"], "field": path}
    params["trigger" if place.get("trigger") else "action"] = place["step"]
    if place.get("connection_id"):
        params["connection"] = place["connection_id"]
    for key in f.depends_on:
        value = config.get(key)
        if value not in (None, ""):
            params[f"config.{key}"] = value if isinstance(value, str) else json.dumps(value)
    return reverse("recipe_choices") + "?" + urlencode(params)


def control(
    f: Field, value: Any, place: dict, config: dict, labels: dict, prefix: str = ""
) -> Control:
    """One field's control. ``place``: app, step (action or trigger key), trigger (bool),
    card (an id prefix) and connection_id; ``labels`` the remembered labels of chosen values."""
    path = f"{prefix}{f.key}"
    c = Control(
        key=f.key,
        id=f"{place['card']}-{path.replace('.', '-')}",
        name=f"config.{path}",
        label=str(f.label),
        widget="text",
        help=str(f.help or ""),
        required=f.required,
        placeholder=str(f.placeholder or ""),
        depends_on=f.depends_on,
    )
    if value is None:
        value = f.default
    if f.kind == "secret":
        c.widget, c.secret_state = "secret", secrets.state(value)
        return c
    if f.kind == "bool":
        c.widget, c.value = "checkbox", value is True or value == "true"
        return c
    if f.builder:
        return _builder(c, f, value, place)
    if f.kind == "list" and f.row:
        c.widget = "rows"
        items = value if isinstance(value, list) else []
        c.rows = [
            [
                control(
                    sub,
                    row.get(sub.key) if isinstance(row, dict) else None,
                    place,
                    config,
                    labels,
                    f"{path}.{i}.",
                )
                for sub in f.row
            ]
            for i, row in enumerate(items[:MAX_ROWS])
        ]
        return c
    if f.has_choices and not is_reference(value):
        chosen = value if isinstance(value, list) else ([] if value in (None, "") else [value])
        chosen = [str(v) for v in chosen]
        if f.dynamic_choices is not None:
            c.widget = "picker"
            c.choices_url = choices_url(
                place, path.split(".")[0] if not prefix else _row_path(path), config, f
            )
            known = labels.get(path) or {}
            c.choices = [{"value": v, "label": known.get(v, v), "selected": True} for v in chosen]
        else:
            c.widget = "select"
            c.choices = [
                {"value": ch.value, "label": str(ch.label), "selected": ch.value in chosen}
                for ch in f.choices
            ]
        if f.multiple or f.kind == "list":
            c.widget = "checkboxes" if c.widget == "select" else "picker_multiple"
        return c
    if f.kind == "list":
        c.widget = "lines"
        c.value = "\n".join(_text(v) for v in value) if isinstance(value, list) else _text(value)
        c.insertable = not place.get("trigger")
        return c
    if f.kind == "json":
        c.widget, c.value = "json", _text(value)
        return c
    c.widget = "textarea" if f.kind == "long_text" else "text"
    c.value = _text(value)
    # The trigger is the start of the data: there is nothing earlier to insert.
    c.insertable = f.accepts_references and not place.get("trigger")
    c.timezone = f.key.endswith("timezone")
    return c


def _builder(c: Control, f: Field, value: Any, place: dict) -> Control:
    """Rows of conditions (or paths), or their text form when asked for or when the rows
    cannot show the value."""
    ui = place.get("ui") or {}
    c.builder = f.builder
    c.focus = c.name in ui.get("switched", ())
    fits = editor_conditions.fits(f, value)
    if c.name in ui.get("text", ()) or not fits:
        c.widget, c.value = "json", _text(value)
        c.text_reason = "" if fits else editor_conditions.why_text(f)
        return c
    c.operators = editor_conditions.operators()
    if f.builder == "paths":
        c.widget = "paths"
        later = place.get("later_steps") or []
        c.branches = editor_conditions.branches(c.id, c.name, value or [], later, ui)
    else:
        c.widget = "conditions"
        match, rows = editor_conditions.condition_rows(value)
        c.group = editor_conditions.group(c.id, c.name, match, rows, ui, blank=True)
    return c


def _row_path(path: str) -> str:
    """``headers.0.name`` -> ``headers.name``: the choices endpoint's name for a column."""
    parts = path.split(".")
    return f"{parts[0]}.{parts[-1]}"


def controls(fields, config: dict, place: dict, labels: dict) -> list[Control]:
    return [control(f, config.get(f.key), place, config, labels) for f in fields]


# ---------------------------------------------------------------- reading the form back


def _number(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def read_value(f: Field, post, name: str, old: Any, workspace_id: int) -> tuple[Any, str]:
    """(value, error) of one field from the posted form; None means "not set"."""
    if f.kind == "secret":
        typed = post.get(name, "").strip()
        if post.get(f"clear.{name}"):
            return None, ""
        return (secrets.seal_value(typed, workspace_id) if typed else old), ""
    if f.builder:
        return editor_conditions.read(f, post, name, old)
    if f.kind == "bool":
        on = post.get(name) in ("on", "true", "1")
        return (None if on == bool(f.default) else on), ""
    if f.kind == "list" and f.row:
        return _read_rows(f, post, name, old, workspace_id), ""
    if f.has_choices and (f.multiple or f.kind == "list"):
        # A group with nothing ticked posts nothing: its marker says it was on the form.
        if name not in post and not post.get(f"multi.{name}"):
            return old, ""
        values = [v for v in post.getlist(name) if v != ""]
        return (values or None), ""
    raw = post.get(name)
    if raw is None:
        return old, ""
    if f.kind == "list":
        lines = [line.strip() for line in raw.splitlines() if line.strip()]
        return (lines or None), ""
    if f.kind == "json":
        if not raw.strip():
            return None, ""
        try:
            return json.loads(raw), ""
        except json.JSONDecodeError as error:
            message = _("This is not valid JSON: look at line %(line)s, column %(column)s.")
            return old, message % {"line": error.lineno, "column": error.colno}
    if raw.strip() == "":
        return None, ""
    if f.kind == "number" and not is_reference(raw):
        return _number(raw.strip()), ""
    return raw, ""


def _read_rows(f: Field, post, name: str, old: Any, workspace_id: int) -> list | None:
    count = post.get(f"rows.{name}")
    if count is None:
        return old
    rows = []
    old_rows = old if isinstance(old, list) else []
    for i in range(min(int(count) if count.isdigit() else 0, MAX_ROWS)):
        row = {}
        for sub in f.row:
            previous = (
                old_rows[i].get(sub.key)
                if i < len(old_rows) and isinstance(old_rows[i], dict)
                else None
            )
            value, _error = read_value(sub, post, f"{name}.{i}.{sub.key}", previous, workspace_id)
            if value is not None:
                row[sub.key] = value
        if post.get(f"remove.{name}.{i}"):
            continue
        if row:
            rows.append(row)
    if post.get("add_row") == name:
        rows.append({})
    return rows or None


def read_config(fields, post, old: dict, workspace_id: int) -> tuple[dict, dict[str, str]]:
    """The config the form describes, and an error per field that could not be read (the
    old value is kept for it)."""
    config, errors = {}, {}
    for f in fields:
        value, error = read_value(f, post, f"config.{f.key}", old.get(f.key), workspace_id)
        if error:
            errors[f.key] = error
        # A field left at its default stays out of the recipe, as a file would leave it.
        if value is not None and value != f.default:
            config[f.key] = value
    return config, errors


def posted_labels(post) -> dict[str, dict[str, str]]:
    """Labels of chosen picker values, posted as ``label.config.<path>`` = JSON {value: label}."""
    out = {}
    for name in post:
        if name.startswith("label.config."):
            try:
                labels = json.loads(post[name])
            except json.JSONDecodeError:
                continue
            if isinstance(labels, dict):
                out[name.removeprefix("label.config.")] = {
                    str(k)[:200]: str(v)[:200] for k, v in list(labels.items())[:50]
                }
    return out
