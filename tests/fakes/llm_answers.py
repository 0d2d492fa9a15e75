"""Deterministic answers for the LLM fakes, built from the input so tests can check that the
right value came back.

- Structured output: every property of the requested schema is filled from the text — a
  line ``Name: value`` whose name matches the property (its key with spaces, or the start of
  its description) gives the value; otherwise a value of the property's type found in the
  text (an e-mail address, an ISO date, a number, one of the enum's values), or null.
- Plain text: ``Summary: <the first words>`` when the instructions ask for a summary (as many
  words as asked, so length limits can be checked), else ``Answer: <first sentence>``.
- ``[[refuse]]`` anywhere in the text makes the model refuse.

Token counts are about four characters a token, as the real tokenizers give for English.
"""

from __future__ import annotations

import math
import re
from typing import Any

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
DATETIME = re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:\d{2})\b")
NUMBER = re.compile(r"-?\b\d+(?:\.\d+)?\b")


def tokens(text: str) -> int:
    return math.ceil(len(text) / 4) if text else 0


def _kinds(prop: dict[str, Any]) -> list[str]:
    kinds = prop.get("type", "string")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return [str(k).lower() for k in kinds]


def _labelled(text: str, key: str, description: str) -> str | None:
    names = {key.replace("_", " ").lower(), key.lower()}
    if description:
        names.add(description.split(" — ")[0].strip().lower())
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() in names and value.strip():
            return value.strip()
    return None


def value_for(prop: dict[str, Any], key: str, text: str) -> Any:
    kinds = _kinds(prop)
    labelled = _labelled(text, key, str(prop.get("description") or ""))
    enum = [e for e in prop.get("enum") or [] if e is not None]
    if enum:
        source = (labelled or text).lower()
        found = [e for e in enum if re.search(rf"\b{re.escape(str(e).lower())}\b", source)]
        return found[0] if found else enum[0]
    if "array" in kinds:
        if labelled:
            return [part.strip() for part in labelled.split(",") if part.strip()]
        return []
    if "boolean" in kinds:
        source = (labelled or "").lower()
        return source in ("yes", "true", "y") if labelled else None
    if "number" in kinds or "integer" in kinds:
        match = NUMBER.search(labelled or "")
        if match:
            number = float(match.group())
            return int(number) if "integer" in kinds or number.is_integer() else number
        return None
    fmt = prop.get("format")
    if fmt == "date-time":
        match = DATETIME.search(labelled or text)
        return match.group() if match else None
    if fmt == "date" or "YYYY-MM-DD" in str(prop.get("description") or ""):
        match = DATE.search(labelled or text)
        return match.group() if match else None
    if labelled:
        return labelled
    if "email" in key:
        match = EMAIL.search(text)
        return match.group() if match else None
    return None


def structured(schema: dict[str, Any], text: str) -> dict[str, Any]:
    props = schema.get("properties") or {}
    answer = {}
    for key, prop in props.items():
        value = value_for(prop, key, text)
        if key == "reason" and value is None:
            value = "The text says so: " + first_sentence(text)
        if value is None and "null" not in _kinds(prop) and not prop.get("nullable"):
            value = _blank(prop)
        answer[key] = value
    return answer


def _blank(prop: dict[str, Any]) -> Any:
    kinds = _kinds(prop)
    if "array" in kinds:
        return []
    if "boolean" in kinds:
        return False
    if "number" in kinds or "integer" in kinds:
        return 0
    return first_sentence("")


def invalid(schema: dict[str, Any]) -> dict[str, Any]:
    """An answer that breaks the schema: every required property missing, one unknown key."""
    return {"unexpected": "not what was asked"}


def first_sentence(text: str) -> str:
    """The first sentence of the first non-empty line."""
    lines = [line for line in text.splitlines() if line.strip()]
    text = " ".join((lines[0] if lines else "").split())
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    return (match.group(1) if match else text[:200]) or "Nothing to say."


def plain(instructions: str, text: str) -> str:
    asked = re.search(r"at most (\d+) words", instructions)
    if "summar" in instructions.lower():
        limit = int(asked.group(1)) if asked else 50
        words = text.split()
        return "Summary: " + " ".join(words[: max(limit - 1, 1)])
    return "Answer: " + first_sentence(text)


def refuses(text: str) -> bool:
    return "[[refuse]]" in text
