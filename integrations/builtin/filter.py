"""Filter: continue the run only when the conditions pass; otherwise end it as filtered."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from hub.mapping.conditions import ConditionError, evaluate
from integrations.base import Action, Context, Field, IntegrationError, OutputField, StopRun


def run(ctx: Context) -> dict[str, Any]:
    conditions = ctx.config.get("conditions")
    if not conditions:
        raise IntegrationError("Add at least one condition to this filter.", permanent=True)
    try:
        result = evaluate(conditions, case_sensitive=bool(ctx.config.get("case_sensitive")))
    except ConditionError as exc:
        raise IntegrationError(str(exc), permanent=True) from None
    if not result.passed:
        raise StopRun(result.explanation)
    return {"passed": True}


ACTION = Action(
    key="filter",
    label=_("Only continue if…"),
    run=run,
    effect="read",
    local=True,
    help=_(
        "Stops the run here, without failing it, unless the conditions pass. "
        "The run history shows which condition failed and the values it saw."
    ),
    fields=(
        Field(
            "conditions",
            _("Conditions"),
            kind="json",
            builder="conditions",
            required=True,
            help=_(
                "Each row tests one value from the trigger or an earlier step. "
                "Choose whether all rows or any one of them must be true."
            ),
        ),
        Field(
            "case_sensitive",
            _("Match upper and lower case exactly"),
            kind="bool",
            default=False,
        ),
    ),
    outputs=(OutputField("passed", _("Passed"), kind="bool"),),
    sample={"passed": True},
)
