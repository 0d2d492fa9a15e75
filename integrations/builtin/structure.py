"""The structural built-in steps, which the executor runs itself because they shape which
steps run rather than calling anything: *loop* and *paths*.

- ``builtin.loop`` — ``{"items": "{{ trigger.rows }}", "max": 100}``: every step after it
  runs once per item (at most ``max``, capped by ENGINE_LOOP_MAX_ITEMS), seeing the item as
  ``{{ loop.item }}`` and its position as ``{{ loop.index }}``. One loop per recipe.
- ``builtin.paths`` — ``{"branches": [{"name": "urgent", "match": "all", "conditions":
  [rows as in hub.mapping.conditions], "steps": ["page_oncall"]}, {"name": "otherwise",
  "steps": ["post_note"]}]}``: the
  first branch whose conditions match is taken (a branch without conditions always matches);
  the steps listed under the other branches are skipped. Steps on no branch always run.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from integrations.base import Action, Field, IntegrationError, OutputField

STRUCTURAL = ("loop", "paths")


def _not_called(ctx):  # the executor handles these steps itself
    raise IntegrationError("Structural steps are run by the engine.", permanent=True)


LOOP = Action(
    key="loop",
    label=_("Repeat for each item"),
    run=_not_called,
    effect="read",
    local=True,
    fields=(
        Field(
            "items", _("Items"), kind="list", required=True, help=_("A list from an earlier step.")
        ),
        Field("max", _("At most"), kind="number", help=_("Stop after this many items.")),
    ),
    outputs=(
        OutputField("count", _("How many items"), kind="number"),
        OutputField("truncated", _("Some items were left out"), kind="bool"),
    ),
    sample={"count": 1, "truncated": False},
)

PATHS = Action(
    key="paths",
    label=_("Paths"),
    run=_not_called,
    effect="read",
    local=True,
    fields=(
        Field(
            "branches",
            _("Paths"),
            kind="json",
            builder="paths",
            required=True,
            help=_(
                "The first path whose conditions pass is taken; a path without conditions "
                "is taken when none before it passes. Steps on no path always run."
            ),
        ),
    ),
    outputs=(OutputField("branch", _("Path taken")),),
    sample={"branch": "otherwise"},
)


def loop_items(config: dict[str, Any], cap: int) -> tuple[list[Any], bool]:
    items = config.get("items")
    if items is None:
        items = []
    if not isinstance(items, list):
        raise IntegrationError("“Items” must be a list.", permanent=True)
    limit = cap
    if config.get("max") not in (None, ""):
        try:
            limit = min(cap, max(0, int(config["max"])))
        except (TypeError, ValueError):
            raise IntegrationError("“At most” must be a number.", permanent=True) from None
    return items[:limit], len(items) > limit


def choose_branch(config: dict[str, Any]) -> dict[str, Any] | None:
    from hub.mapping import conditions

    for branch in config.get("branches") or []:
        rows = branch.get("conditions") or []
        if not rows:
            return branch
        group = {"match": branch.get("match", "all"), "rows": rows}
        try:
            result = conditions.evaluate(group)
        except conditions.ConditionError as error:
            raise IntegrationError(
                f"Path “{branch.get('name')}”: {error}", permanent=True
            ) from None
        if result.passed:
            return branch
    return None
