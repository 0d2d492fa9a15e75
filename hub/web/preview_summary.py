"""What a write step would do, in the words of its own form: each field the member filled in,
by its label, with the name of the chosen channel, person or list rather than its id — shown
above the exact request a Test step previews."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from integrations.fields import Field

LONGEST = 500  # characters of one value shown; the exact request below has all of it


def summary(fields: tuple[Field, ...], config: dict, labels: dict) -> list[tuple[str, str]]:
    """``(label, value)`` for each filled-in field of the step, in the form's order.
    ``labels``: the remembered labels of picked values, ``{field key: {value: label}}``."""
    lines = []
    for f in fields:
        value = config.get(f.key)
        if f.kind == "secret" or f.builder or _empty(value):
            continue
        shown = _shown(f, value, labels.get(f.key) or {})
        if shown:
            lines.append((str(f.label), shown[:LONGEST]))
    return lines


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _shown(f: Field, value: Any, picked: dict) -> str:
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return ", ".join(_one(f, v, picked) for v in value if not _empty(v))
    if isinstance(value, dict):
        return ""  # structured values read better in the exact request
    return _one(f, value, picked)


def _one(f: Field, value: Any, picked: dict) -> str:
    if isinstance(value, dict | list):
        return ""
    text = str(value)
    fixed = {c.value: str(c.label) for c in f.choices}
    return picked.get(text) or fixed.get(text) or text
