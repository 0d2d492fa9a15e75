"""What the AI steps share: the model picker, the instructions and input fields, and one
structured call with a single repair attempt."""

from __future__ import annotations

import json
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from integrations.base import Choice, ChoicePage, Context, Field, IntegrationError
from integrations.llm import calling, schema
from integrations.llm.providers.base import Completion, Prompt


def model_choices(ctx: Context, search: str, page: str | None) -> ChoicePage:
    """The models the admins made available on the step's connection."""
    needle = search.strip().lower()
    found = [
        Choice(m["id"], str(m.get("name") or m["id"]))
        for m in calling.allowed_models(ctx)
        if not needle or needle in m["id"].lower() or needle in str(m.get("name", "")).lower()
    ]
    return ChoicePage(found)


MODEL = Field(
    "model",
    _l("Model"),
    kind="choice",
    required=True,
    help=_l("One of the models an admin made available on this connection."),
    dynamic_choices=model_choices,
)
INSTRUCTIONS = Field(
    "instructions",
    _l("Instructions"),
    kind="long_text",
    help=_l("What the model should do. Insert data from earlier steps where it helps."),
    placeholder=_l("Find who must do what by when in this email."),
)
INPUT = Field(
    "input",
    _l("Input"),
    kind="long_text",
    required=True,
    help=_l("The text the model works on, usually data inserted from earlier steps."),
    placeholder="{{ trigger.body_clean }}",
)
TEMPERATURE = Field(
    "temperature",
    _l("Temperature"),
    kind="number",
    help=_l("0 gives the most predictable answers; higher values vary more. Optional."),
)
MAX_OUTPUT_TOKENS = Field(
    "max_output_tokens",
    _l("Longest answer (tokens)"),
    kind="number",
    help=_l("Stops the answer after this many tokens. Optional."),
)


def text_of(value: Any) -> str:
    """A field's value as text for the model: lists and objects as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def number(ctx: Context, key: str, *, integer: bool = False) -> float | int | None:
    value = ctx.config.get(key)
    if value in (None, ""):
        return None
    try:
        found = float(value)
    except (TypeError, ValueError):
        raise IntegrationError(
            _("“%(field)s” must be a number, not “%(value)s”.") % {"field": key, "value": value},
            permanent=True,
        ) from None
    return int(found) if integer else found


def prompt_of(ctx: Context, instructions: str, **extra: Any) -> Prompt:
    return Prompt(
        model=str(ctx.config.get("model") or ""),
        instructions=instructions,
        input=text_of(ctx.config.get("input")),
        temperature=number(ctx, "temperature"),
        max_output_tokens=number(ctx, "max_output_tokens", integer=True),
        **extra,
    )


def structured(ctx: Context, prompt: Prompt, operation: str, **params: Any) -> dict[str, Any]:
    """The answer following ``prompt.schema``: checked with jsonschema; when it does not
    hold, the model is told what is wrong once and asked again; still wrong fails the step
    with the problems shown."""
    answer = calling.call(ctx, prompt, operation, **params)
    found = schema.problems(prompt.schema, _data(answer))
    if not found:
        return _data(answer)
    repair = Prompt(
        **{
            **prompt.__dict__,
            "history": (
                ("assistant", answer.text or json.dumps(answer.data, ensure_ascii=False)),
                (
                    "user",
                    "Your answer does not match the required format:\n- "
                    + "\n- ".join(found)
                    + "\nAnswer again with every field, corrected.",
                ),
            ),
        }
    )
    again = calling.call(ctx, repair, operation, purpose="repair", **params)
    still = schema.problems(prompt.schema, _data(again))
    if still:
        raise IntegrationError(
            _("The model's answer did not have the right form, even after a second try: %s")
            % "; ".join(still),
            permanent=True,
        )
    return _data(again)


def _data(answer: Completion) -> Any:
    if answer.data is not None:
        return answer.data
    try:
        return json.loads(answer.text)
    except ValueError:
        return None
