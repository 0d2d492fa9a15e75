"""What changed between two recipe documents, in plain words: "Step 2 · Slack · “Message”
changed", "Step 4 added". Steps are matched by their stable key, so a moved step reads as
moved, not as one removed and another added."""

from __future__ import annotations

from django.utils.translation import gettext as _

from integrations import registry
from integrations.base import IntegrationError


def _names(step: dict) -> tuple[str, dict]:
    """The step's app name and its fields' labels by key."""
    try:
        integration = registry.get(step.get("app") or "")
    except IntegrationError:
        return str(step.get("app") or ""), {}
    action = integration.actions.get(step.get("action") or "")
    labels = {f.key: str(f.label) for f in action.fields} if action else {}
    return str(integration.name), labels


def _trigger_changes(old: dict, new: dict) -> list[str]:
    if (old.get("app"), old.get("event")) != (new.get("app"), new.get("event")):
        return [_("Trigger changed")]
    if old.get("config") != new.get("config"):
        return [_("Trigger · settings changed")]
    return []


def describe(old: dict | None, new: dict) -> list[str]:
    """Each change from ``old`` (None: the first version) to ``new``."""
    if not old:
        return [_("First version")]
    lines = []
    if old.get("name") != new.get("name"):
        lines.append(_("Renamed to “%(name)s”") % {"name": new.get("name")})
    lines += _trigger_changes(old.get("trigger") or {}, new.get("trigger") or {})
    old_steps = {s.get("key"): (i, s) for i, s in enumerate(old.get("steps") or [])}
    new_keys = {s.get("key") for s in new.get("steps") or []}
    for index, step in enumerate(new.get("steps") or []):
        app, labels = _names(step)
        where = _("Step %(n)s · %(app)s") % {"n": index + 1, "app": app}
        before = old_steps.get(step.get("key"))
        if before is None:
            lines.append(_("Step %(n)s added") % {"n": index + 1} + f" ({app})")
            continue
        old_index, previous = before
        if (previous.get("app"), previous.get("action")) != (step.get("app"), step.get("action")):
            lines.append(_("%(where)s · now does something else") % {"where": where})
            continue
        if old_index != index:
            lines.append(
                _("%(where)s · moved from step %(n)s") % {"where": where, "n": old_index + 1}
            )
        if previous.get("connection") != step.get("connection"):
            lines.append(_("%(where)s · connection changed") % {"where": where})
        old_config, config = previous.get("config") or {}, step.get("config") or {}
        for key in sorted(set(old_config) | set(config)):
            if old_config.get(key) != config.get(key):
                label = labels.get(key, key)
                lines.append(
                    _("%(where)s · “%(field)s” changed") % {"where": where, "field": label}
                )
    for key, (old_index, previous) in old_steps.items():
        if key not in new_keys:
            app, _labels = _names(previous)
            lines.append(_("Step %(n)s · %(app)s removed") % {"n": old_index + 1, "app": app})
    return lines or [_("No changes")]
