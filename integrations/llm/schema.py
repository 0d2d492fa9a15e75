"""The fields a member asks ``llm.extract`` for, as a JSON schema the providers' native
structured output follows, checked with ``jsonschema``, and turned into typed outputs (a date
stays a date in the recipe's time zone, a list a list)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from django.utils.translation import gettext as _

from integrations.base import IntegrationError, OutputField
from integrations.dates import moment, zone

TYPES = ("text", "number", "date", "datetime", "bool", "list", "choice")
OUTPUT_KINDS = {
    "text": "text",
    "number": "number",
    "date": "date",
    "datetime": "date",
    "bool": "bool",
    "list": "list",
    "choice": "text",
}


@dataclass(frozen=True)
class Wanted:
    key: str  # the output's key: the name in snake_case ("assignee email" → assignee_email)
    name: str
    type: str = "text"
    required: bool = False
    choices: tuple[str, ...] = ()
    description: str = ""


def output_key(name: str) -> str:
    key = re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")
    return key or "field"


def wanted_fields(rows: Any) -> list[Wanted]:
    """The ``fields`` setting read and checked; a problem is a permanent error saying what to
    fix."""
    if not isinstance(rows, list) or not rows:
        raise IntegrationError(_("List at least one field to extract."), permanent=True)
    found: list[Wanted] = []
    for row in rows:
        if not isinstance(row, dict) or not str(row.get("name") or "").strip():
            raise IntegrationError(_("Each field to extract needs a name."), permanent=True)
        name = str(row["name"]).strip()
        kind = str(row.get("type") or "text")
        if kind not in TYPES:
            raise IntegrationError(
                _("Field “%(name)s”: the type “%(type)s” is not one of %(types)s.")
                % {"name": name, "type": kind, "types": ", ".join(TYPES)},
                permanent=True,
            )
        choices = row.get("choices") or ()
        if isinstance(choices, str):
            choices = [c.strip() for c in choices.split(",")]
        choices = tuple(str(c) for c in choices if str(c).strip())
        if kind == "choice" and not choices:
            raise IntegrationError(
                _("Field “%(name)s” is a choice: list its choices.") % {"name": name},
                permanent=True,
            )
        key = output_key(name)
        if any(w.key == key for w in found):
            raise IntegrationError(
                _("Two fields to extract are both called “%(name)s”.") % {"name": name},
                permanent=True,
            )
        found.append(
            Wanted(
                key=key,
                name=name,
                type=kind,
                required=bool(row.get("required")),
                choices=choices,
                description=str(row.get("description") or ""),
            )
        )
    return found


def _property(w: Wanted) -> dict[str, Any]:
    base: dict[str, Any] = {
        "text": {"type": "string"},
        "number": {"type": "number"},
        "date": {"type": "string", "format": "date", "description": "YYYY-MM-DD"},
        "datetime": {
            "type": "string",
            "format": "date-time",
            "description": "YYYY-MM-DDTHH:MM:SS with the UTC offset",
        },
        "bool": {"type": "boolean"},
        "list": {"type": "array", "items": {"type": "string"}},
        "choice": {"type": "string", "enum": list(w.choices)},
    }[w.type]
    described = " — ".join(p for p in (w.name, w.description, base.get("description")) if p)
    prop = {**base, "description": described}
    if not w.required:
        # Strict structured output wants every key present: an optional one may be null.
        prop["type"] = [prop["type"], "null"]
        if "enum" in prop:
            prop["enum"] = [*prop["enum"], None]
    return prop


def json_schema(fields: list[Wanted]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {w.key: _property(w) for w in fields},
        "required": [w.key for w in fields],
        "additionalProperties": False,
    }


def _is_date(value: Any) -> bool:
    return not isinstance(value, str) or bool(date.fromisoformat(value))


def _is_datetime(value: Any) -> bool:
    # Python reads RFC 3339 date-times (with "Z" or an offset) since 3.11.
    return not isinstance(value, str) or bool(datetime.fromisoformat(value))


@cache
def _validator_class():
    """jsonschema's validator with our two formats; imported on the first answer checked,
    so a process that runs no AI step does not carry it."""
    import jsonschema

    formats = jsonschema.FormatChecker(formats=())
    formats.checks("date", raises=ValueError)(_is_date)
    formats.checks("date-time", raises=ValueError)(_is_datetime)
    return jsonschema.Draft202012Validator, formats


def problems(schema: dict[str, Any], answer: Any) -> list[str]:
    """What is wrong with the answer, one line per problem, in words a member can read."""
    if not isinstance(answer, dict):
        return [_("the answer was not an object with the fields")]
    validator, formats = _validator_class()
    checker = validator(schema, format_checker=formats)
    found = []
    for error in sorted(checker.iter_errors(answer), key=lambda e: list(e.path)):
        where = ".".join(str(p) for p in error.path)
        found.append(f"{where}: {error.message}" if where else error.message)
    return found


def typed(fields: list[Wanted], answer: dict[str, Any], timezone: str) -> dict[str, Any]:
    """The validated answer as outputs: dates in ISO form in the recipe's time zone."""
    tz = zone(timezone)
    out: dict[str, Any] = {}
    for w in fields:
        value = answer.get(w.key)
        if value is None:
            out[w.key] = None
        elif w.type == "date":
            out[w.key] = moment(value, tz)[0].astimezone(tz).date().isoformat()
        elif w.type == "datetime":
            out[w.key] = moment(value, tz)[0].astimezone(tz).isoformat()
        elif w.type == "number" and float(value).is_integer():
            out[w.key] = int(value)
        else:
            out[w.key] = value
    return out


def outputs(fields: list[Wanted]) -> tuple[OutputField, ...]:
    return tuple(OutputField(w.key, w.name, kind=OUTPUT_KINDS[w.type]) for w in fields)
