"""``llm.extract``: the fields a member lists, pulled out of the input with the provider's
native structured output, checked, repaired once, and given back typed — one output per
field, so later steps map them like any other output."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _

from integrations.base import Action, Choice, Context, Field, IntegrationError, OutputField
from integrations.llm import schema
from integrations.llm.steps.common import (
    INPUT,
    INSTRUCTIONS,
    MAX_OUTPUT_TOKENS,
    MODEL,
    TEMPERATURE,
    prompt_of,
    structured,
    text_of,
)

GUIDE = (
    "Extract the requested fields from the user's text. Use only what the text says; give "
    "null for a field it does not give. Dates as YYYY-MM-DD, date-times with their UTC "
    "offset, relative dates read from today, {today}, in the time zone {zone}."
)

FIELDS = Field(
    "fields",
    _("Fields to extract"),
    kind="list",
    required=True,
    help=_("What to find in the input. Each becomes an output later steps can use."),
    accepts_references=False,
    row=(
        Field("name", _("Name"), required=True, placeholder=_("due date")),
        Field(
            "type",
            _("Type"),
            kind="choice",
            default="text",
            choices=(
                Choice("text", _("Text")),
                Choice("number", _("Number")),
                Choice("date", _("Date")),
                Choice("datetime", _("Date and time")),
                Choice("bool", _("Yes or no")),
                Choice("list", _("List")),
                Choice("choice", _("One of a list")),
            ),
        ),
        Field("required", _("Required"), kind="bool", default=False),
        Field(
            "choices",
            _("Choices"),
            kind="list",
            help=_("For “One of a list”: the values allowed."),
        ),
        Field("description", _("Description"), help=_("A hint for the model. Optional.")),
    ),
)


def wanted_outputs(config: Mapping[str, Any]) -> tuple[OutputField, ...]:
    """One output per field asked for; none while the fields are not valid yet (publishing
    reports that problem itself)."""
    try:
        return schema.outputs(schema.wanted_fields(config.get("fields")))
    except IntegrationError:
        return ()


def extract(ctx: Context) -> dict:
    from datetime import datetime

    from integrations.dates import zone

    wanted = schema.wanted_fields(ctx.config.get("fields"))
    answer_schema = schema.json_schema(wanted)
    today = datetime.now(zone(ctx.timezone)).date().isoformat()
    guide = GUIDE.format(today=today, zone=ctx.timezone or "UTC")
    instructions = "\n\n".join(p for p in (text_of(ctx.config.get("instructions")), guide) if p)
    prompt = prompt_of(ctx, instructions, schema=answer_schema, schema_name="extracted_fields")
    answer = structured(ctx, prompt, "extract")
    return schema.typed(wanted, answer, ctx.timezone)


EXTRACT = Action(
    "extract",
    _("Extract fields with AI"),
    extract,
    fields=(MODEL, INSTRUCTIONS, INPUT, FIELDS, TEMPERATURE, MAX_OUTPUT_TOKENS),
    outputs=(),
    sample={},
    config_outputs=wanted_outputs,
    effect="read",
    help=_(
        "Finds the fields you list in the input and gives each back as its own output: a "
        "date stays a date, a list a list."
    ),
)
