"""What a template leaves for the member to choose, and filling it in (see the package's
docstring for how a template marks it)."""

from __future__ import annotations

import copy
from dataclasses import dataclass

from hub.recipes.format import needs_connection
from integrations import registry
from integrations.base import Field, IntegrationError

# Triggers that are the hub's own and never need a connection.
OWN_TRIGGERS = {"manual", "schedule", "webhook"}


@dataclass(frozen=True)
class Picker:
    """A choice the member makes: ``place`` is "trigger" or a step key."""

    place: str
    app: str
    step: str  # the action's key, or the trigger's event
    field: Field
    is_trigger: bool = False

    @property
    def name(self) -> str:
        return f"pick.{self.place}.{self.field.key}"


def _declaration(app: str, key: str, *, trigger: bool):
    integration = registry.get(app)
    found = (integration.triggers if trigger else integration.actions).get(key)
    if found is None:
        raise IntegrationError(f"{app}.{key}", permanent=True)
    return integration, found


def _parts(document: dict):
    """(place, app, key, is_trigger, part) for the trigger and each step."""
    trigger = document.get("trigger") or {"app": "manual"}
    yield "trigger", trigger.get("app"), trigger.get("event"), True, trigger
    for step in document.get("steps") or []:
        yield step["key"], step["app"], step["action"], False, step


def unavailable(document: dict) -> list[str]:
    """The ``app.action`` names this hub does not have (a template needing them is hidden)."""
    out = []
    for _place, app, key, is_trigger, _part in _parts(document):
        if is_trigger and app in OWN_TRIGGERS:
            continue
        try:
            _declaration(app, key, trigger=is_trigger)
        except IntegrationError:
            out.append(f"{app}.{key}")
    return out


def connection_apps(document: dict) -> list:
    """The integrations whose connection the member chooses, in the order the recipe uses
    them (one connection per app serves every step of that app)."""
    seen: dict[str, object] = {}
    for _place, app, key, is_trigger, part in _parts(document):
        if (is_trigger and app in OWN_TRIGGERS) or part.get("connection") or app in seen:
            continue
        try:
            integration, _found = _declaration(app, key, trigger=is_trigger)
        except IntegrationError:
            continue  # not on this hub (see unavailable)
        if needs_connection(integration):
            seen[app] = integration
    return list(seen.values())


def pickers(document: dict) -> list[Picker]:
    """The live choice fields the template leaves empty, in recipe order."""
    out = []
    for place, app, key, is_trigger, part in _parts(document):
        if is_trigger and app in OWN_TRIGGERS:
            continue
        try:
            _integration, found = _declaration(app, key, trigger=is_trigger)
        except IntegrationError:
            continue
        config = part.get("config") or {}
        for field in found.fields:
            if field.kind == "choice" and config.get(field.key) == "":
                out.append(Picker(place, app, key, field, is_trigger))
    return out


def fill(document: dict, connections: dict, values: dict[str, object]) -> dict:
    """The template with each app's chosen connection (``{app: Connection}``) and each
    picker's value (by ``Picker.name``); a picker not given stays empty for the editor."""
    document = copy.deepcopy(document)
    for place, app, _key, is_trigger, part in _parts(document):
        if is_trigger and app in OWN_TRIGGERS:
            continue
        connection = connections.get(app)
        if connection is not None and not part.get("connection"):
            part["connection"] = connection.label
            part["connection_id"] = connection.pk
        config = part.get("config") or {}
        for name, value in config.items():
            wanted = values.get(f"pick.{place}.{name}")
            if value == "" and wanted not in (None, ""):
                config[name] = wanted
    return document
