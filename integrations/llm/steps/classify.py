"""``llm.classify``: the input sorted into exactly one of the member's labels, with a reason."""

from __future__ import annotations

from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from integrations.base import Action, Context, Field, IntegrationError, OutputField
from integrations.llm.steps.common import INPUT, MODEL, TEMPERATURE, prompt_of, structured, text_of

LABELS = Field(
    "labels",
    _("Labels"),
    kind="list",
    required=True,
    help=_("The labels to choose from; a description helps the model tell them apart."),
    accepts_references=False,
    row=(
        Field("label", _("Label"), required=True, placeholder=_("urgent")),
        Field("description", _("Description")),
    ),
)
INSTRUCTIONS = Field(
    "instructions",
    _("Instructions"),
    kind="long_text",
    help=_("Anything else the model should know to choose. Optional."),
)


def labels_of(ctx: Context) -> list[tuple[str, str]]:
    found = []
    for row in ctx.config.get("labels") or []:
        if isinstance(row, str):
            row = {"label": row}
        label = str((row or {}).get("label") or "").strip()
        if label and label not in [f[0] for f in found]:
            found.append((label, str(row.get("description") or "")))
    if len(found) < 2:
        raise IntegrationError(_g("List at least two labels to choose from."), permanent=True)
    return found


def classify(ctx: Context) -> dict:
    labels = labels_of(ctx)
    listing = "\n".join(f"- {name}" + (f": {text}" if text else "") for name, text in labels)
    guide = (
        "Choose the one label that fits the user's text best, and say why in one sentence."
        f"\nLabels:\n{listing}"
    )
    instructions = "\n\n".join(p for p in (text_of(ctx.config.get("instructions")), guide) if p)
    answer_schema = {
        "type": "object",
        "properties": {
            "label": {"type": "string", "enum": [name for name, _text in labels]},
            "reason": {"type": "string"},
        },
        "required": ["label", "reason"],
        "additionalProperties": False,
    }
    prompt = prompt_of(ctx, instructions, schema=answer_schema, schema_name="classification")
    answer = structured(ctx, prompt, "classify")
    return {"label": answer["label"], "reason": answer["reason"]}


CLASSIFY = Action(
    "classify",
    _("Classify with AI"),
    classify,
    fields=(MODEL, INPUT, LABELS, INSTRUCTIONS, TEMPERATURE),
    outputs=(OutputField("label", _("Label")), OutputField("reason", _("Reason"))),
    sample={"label": "urgent", "reason": "The customer's site is down."},
    effect="read",
    help=_("Sorts the input into one of your labels, always one of them, and says why."),
)
