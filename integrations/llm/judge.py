"""The LLM-as-judge check of an evaluation: a model of the member's choice reads a rubric and
an AI step's answer and gives a verdict ``{pass, reason}`` through the provider's native
structured output. The call is made, gated by budgets and recorded like any other model call
(purpose ``judge``), so what judging costs shows up with everything else."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from integrations.base import Context, IntegrationError
from integrations.llm import calling, schema
from integrations.llm.providers.base import Prompt
from integrations.llm.steps.common import text_of

VERDICT = {
    "type": "object",
    "properties": {
        "pass": {"type": "boolean", "description": "Pass — true when the answer meets the rubric"},
        "reason": {"type": "string", "description": "Reason — one sentence saying why"},
    },
    "required": ["pass", "reason"],
    "additionalProperties": False,
}

GUIDE = (
    "You grade an answer that another model gave, strictly by the rubric the user gives. "
    "Say pass only when the answer meets every point of the rubric, and give the reason in "
    "one sentence."
)


@dataclass(frozen=True)
class Verdict:
    passed: bool
    reason: str


def judge(ctx: Context, rubric: str, answer: Any, where: str) -> Verdict:
    """The judge's verdict on ``answer`` (the output ``where``, e.g. ``extract.task``).
    ``ctx.config["model"]`` is the judge's model on ``ctx.connection``."""
    rubric = (rubric or "").strip()
    if not rubric:
        raise IntegrationError(_("Write the rubric the judge grades by."), permanent=True)
    prompt = Prompt(
        model=str(ctx.config.get("model") or ""),
        instructions=GUIDE,
        input=f"Rubric:\n{rubric}\n\nAnswer to grade ({where}):\n{text_of(answer)}",
        temperature=0,
        schema=VERDICT,
        schema_name="verdict",
    )
    completion = calling.call(ctx, prompt, "judge", purpose="judge")
    data = completion.data
    if data is None:
        try:
            data = json.loads(completion.text)
        except ValueError:
            data = None
    problems = schema.problems(VERDICT, data)
    if problems:
        raise IntegrationError(
            _("The judge's answer did not have the right form: %s") % "; ".join(problems),
            permanent=True,
        )
    return Verdict(passed=bool(data["pass"]), reason=str(data["reason"]))
