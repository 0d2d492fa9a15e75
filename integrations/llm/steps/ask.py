"""``llm.ask``: instructions and input in, the model's text out."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from integrations.base import Action, Context, OutputField
from integrations.llm import calling
from integrations.llm.steps.common import (
    INPUT,
    INSTRUCTIONS,
    MAX_OUTPUT_TOKENS,
    MODEL,
    TEMPERATURE,
    prompt_of,
    text_of,
)


def ask(ctx: Context) -> dict:
    prompt = prompt_of(ctx, text_of(ctx.config.get("instructions")))
    answer = calling.call(ctx, prompt, "ask")
    return {"text": answer.text}


ASK = Action(
    "ask",
    _("Ask an AI model"),
    ask,
    fields=(MODEL, INSTRUCTIONS, INPUT, TEMPERATURE, MAX_OUTPUT_TOKENS),
    outputs=(OutputField("text", _("Answer"), kind="long_text"),),
    sample={"text": "The report is due on Friday; Mina is preparing it."},
    effect="read",
    help=_("Sends the instructions and the input to the model and gives back its answer."),
)
