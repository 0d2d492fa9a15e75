"""``llm.summarize``: a summary of at most ``max_words`` words. Input longer than the model's
context is split into pieces that fit, each summarised, and the summaries combined (again in
pieces while they are still too long)."""

from __future__ import annotations

from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from integrations.base import Action, Context, Field, IntegrationError, OutputField
from integrations.llm import calling, tokens
from integrations.llm.providers.base import Prompt
from integrations.llm.steps.common import INPUT, MODEL, TEMPERATURE, number, prompt_of, text_of

DEFAULT_WORDS = 100
# Rounds of combining before giving up: each round shrinks the text many times over.
MAX_ROUNDS = 4

INSTRUCTIONS = Field(
    "instructions",
    _("Instructions"),
    kind="long_text",
    help=_("What the summary should focus on. Optional."),
)
MAX_WORDS = Field(
    "max_words",
    _("Longest summary (words)"),
    kind="number",
    default=DEFAULT_WORDS,
    help=_("The summary has at most this many words."),
)


def guide(max_words: int, extra: str, part: bool = False) -> str:
    what = "this part of a longer text" if part else "the user's text"
    lines = [f"Summarize {what} in at most {max_words} words."]
    if extra:
        lines.append(extra)
    return "\n".join(lines)


def summarize(ctx: Context) -> dict:
    max_words = number(ctx, "max_words", integer=True) or DEFAULT_WORDS
    if max_words < 1:
        raise IntegrationError(_g("“Longest summary” must be at least 1 word."), permanent=True)
    extra = text_of(ctx.config.get("instructions"))
    base = prompt_of(ctx, guide(max_words, extra))
    provider = calling.provider_of(ctx).slug
    known = {m["id"]: m.get("context") for m in calling.allowed_models(ctx)}
    window = tokens.context_window(base.model, known)
    # Room for the instructions, the answer and a margin for the provider's own framing.
    answer_room = base.max_output_tokens or max_words * 3
    room = int(window * 0.9) - tokens.count(base.instructions, base.model, provider) - answer_room
    if room < 200:
        raise IntegrationError(
            _g("This model's context is too small to summarise in; choose a larger model."),
            permanent=True,
        )
    text = base.input
    for round_ in range(MAX_ROUNDS):
        pieces = tokens.chunks(text, room, base.model, provider)
        if len(pieces) == 1:
            purpose = "answer" if round_ == 0 else "combine"
            prompt = Prompt(**{**base.__dict__, "input": pieces[0]})
            answer = calling.call(ctx, prompt, "summarize", purpose=purpose, max_words=max_words)
            return {"summary": at_most(answer.text, max_words)}
        summaries = []
        for piece in pieces:
            prompt = Prompt(
                **{**base.__dict__, "instructions": guide(max_words, extra, True), "input": piece}
            )
            answer = calling.call(ctx, prompt, "summarize", purpose="chunk", max_words=max_words)
            summaries.append(answer.text.strip())
        text = "\n\n".join(summaries)
    raise IntegrationError(
        _g("The text is too long to summarise with this model; send less text."), permanent=True
    )


def at_most(text: str, max_words: int) -> str:
    words = text.split()
    return text.strip() if len(words) <= max_words else " ".join(words[:max_words]) + "…"


SUMMARIZE = Action(
    "summarize",
    _("Summarise with AI"),
    summarize,
    fields=(MODEL, INPUT, INSTRUCTIONS, MAX_WORDS, TEMPERATURE),
    outputs=(OutputField("summary", _("Summary"), kind="long_text"),),
    sample={"summary": "Mina sends the Q3 report to the board on Friday."},
    effect="read",
    help=_(
        "Summarises the input in at most the words you set; long input is summarised in "
        "pieces and combined."
    ),
)
