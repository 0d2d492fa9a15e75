"""Publish-time checks of an app's trigger: its connection and its declared fields, held to the
same rules as a step's. ``hub.recipes.format.validate`` calls this and makes each
(message, field, only a connection missing) a Problem of the trigger."""

from __future__ import annotations

from django.utils.translation import gettext as _

from hub.recipes.field_values import check_field
from integrations.base import Integration, Trigger

Found = list[tuple[str, str, bool]]


def trigger_problems(
    integration: Integration,
    declaration: Trigger,
    trigger: dict,
    connection_labels: dict[str, set[str]] | None,
) -> Found:
    app = integration.slug
    problems: Found = []
    label = trigger.get("connection")
    if not label:
        message = _("Choose a %(app)s connection for the trigger.") % {"app": integration.name}
        problems.append((message, "connection", True))
    elif connection_labels is not None and label not in connection_labels.get(app, set()):
        message = _("There is no %(app)s connection called “%(label)s”: connect it first.") % {
            "app": integration.name,
            "label": label,
        }
        problems.append((message, "connection", True))
    config = trigger.get("config") or {}
    declared = {f.key for f in declaration.fields}
    for name in config:
        if name not in declared:
            problems.append((_("This trigger has no such field."), name, False))
    for f in declaration.fields:
        value = config.get(f.key, f.default)
        if f.required and value in (None, "", [], {}):
            required = _("“%(label)s” is required.") % {"label": f.label}
            problems.append((required, f.key, False))
        elif value is not None:
            problems += [(m, where, False) for m, where in check_field(f, value)]
    return problems
