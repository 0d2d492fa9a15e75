"""An app's trigger in a recipe file: its connection, its config and the first-poll choice.

``{"app": "gmail", "event": "new_email", "connection": "Sales Gmail",
"config": {"query": "is:important"}, "include_most_recent": true}``. The connection is named
by label in files and by ``connection_id`` beside it once stored, as a step's is. The config
is checked against the trigger's field declarations, as a step's config is against its
action's. ``include_most_recent`` (default false) asks the first poll after publishing to
fire the newest existing item too; without it, the first poll fires nothing old.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from hub.recipes.field_values import check_field
from integrations.base import Integration, Trigger

# (message, field, only a missing connection); hub.recipes.format makes Problems of them.
Found = list[tuple[str, str | None, bool]]


def normalize(trigger: dict, found: Trigger) -> tuple[dict, Found]:
    """The canonical form of an app's trigger, and what is wrong with its shape."""
    out: dict[str, Any] = {"app": trigger.get("app"), "event": found.key}
    problems = []
    if trigger.get("connection"):
        out["connection"] = str(trigger["connection"])
        connection_id = trigger.get("connection_id")
        if isinstance(connection_id, int) and not isinstance(connection_id, bool):
            out["connection_id"] = connection_id
    config = trigger.get("config") or {}
    if not isinstance(config, dict):
        problems.append((_("“config” must be an object."), "config", False))
        config = {}
    if config or found.fields:
        out["config"] = config
    include = trigger.get("include_most_recent", False)
    if not isinstance(include, bool):
        message = _("“include_most_recent” is true or false.")
        problems.append((message, "include_most_recent", False))
    elif include:
        out["include_most_recent"] = True
    return out, problems


def check(
    trigger: dict,
    found: Trigger,
    integration: Integration,
    connection_labels: dict[str, set[str]] | None,
) -> Found:
    """The problems of a normalized app trigger: undeclared or missing fields, and its
    connection (a missing one only keeps the recipe a draft)."""
    app = trigger.get("app")
    config = trigger.get("config") or {}
    problems = []
    declared = {f.key for f in found.fields}
    for name in config:
        if name not in declared:
            problems.append((_("This trigger has no such field."), name, False))
    for f in found.fields:
        value = config.get(f.key, f.default)
        if f.required and value in (None, "", [], {}):
            problems.append((_("“%(label)s” is required.") % {"label": f.label}, f.key, False))
        else:
            problems += [(m, where, False) for m, where in check_field(f, value)]
    if integration.connects == "none":
        return problems
    label = trigger.get("connection")
    if not label:
        message = _("Choose a %(app)s connection for the trigger.") % {"app": integration.name}
        problems.append((message, "connection", True))
    elif connection_labels is not None and label not in connection_labels.get(app, set()):
        message = _("Connect %(app)s as “%(label)s” under Connections, then publish again.")
        problems.append((message % {"app": integration.name, "label": label}, "connection", True))
    return problems
