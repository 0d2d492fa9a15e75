"""Output capping: what of a step's output the run page keeps, what later steps map from,
and what is refused (docs/engine.md, "Output cap")."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings

from hub.engine.models import StepOutput, StepRun


class Unrecordable(Exception):
    """A step's result the engine cannot keep: not JSON (NaN, infinity) or over the hard cap.
    The message says so to a member."""


def cap_output(output: Any) -> tuple[Any, bool, Any]:
    """The output as plain JSON: (what the run page keeps, whether that is shortened, the
    whole output later steps map from). Up to ENGINE_OUTPUT_MAX_BYTES both are the same;
    a larger output is kept as a preview for the page and whole apart (StepOutput), up to
    ENGINE_OUTPUT_HARD_MAX_BYTES, past which it raises Unrecordable."""
    if output is None:
        output = {}
    try:
        text = json.dumps(output, default=str, ensure_ascii=False, allow_nan=False)
    except ValueError as error:
        reason = str(error)
        if "Out of range float" in reason:
            reason = "it holds a value that is not a finite number (NaN or infinity)"
        raise Unrecordable(f"The step's result could not be saved: {reason}.") from None
    size = len(text.encode())
    whole = json.loads(text) if not _plain(output) else output
    limit = settings.ENGINE_OUTPUT_MAX_BYTES
    if size <= limit:
        return whole, False, whole
    hard = settings.ENGINE_OUTPUT_HARD_MAX_BYTES
    if size > hard:
        raise Unrecordable(
            f"The step's result is {_size_text(size)}; a step may return at most "
            f"{_size_text(hard)}."
        )
    preview = {"truncated": True, "size_bytes": size, "preview": text[: min(2000, limit)]}
    return preview, True, whole


def _size_text(size: int) -> str:
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


def whole_output(record: StepRun) -> Any:
    """A finished attempt's output as later steps see it: whole, also when the row keeps
    only a preview."""
    if not record.output_truncated:
        return record.output
    whole = StepOutput.objects.filter(step_id=record.pk).values_list("data", flat=True).first()
    return record.output if whole is None else whole


def _plain(value: Any) -> bool:
    """True when the value is already JSON-native (the common case: skip a round trip)."""
    if value is None or isinstance(value, str | int | float | bool):
        return True
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False
