"""The recipe file format ``toolstack.recipe/1``: reading, validating and writing it.

Validation is one function for import and publish. Each problem names the step and field it
is about, in words a member can act on. A problem is *blocking* (the recipe cannot be
published) unless it is only a missing connection, which leaves the recipe a draft with a
message saying what to connect.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from hub.accounts.timezones import is_zone
from hub.engine import schedule
from hub.recipes import trigger_format
from hub.recipes.field_values import check_field
from integrations import registry
from integrations.base import Action, IntegrationError, Trigger

FORMAT = "toolstack.recipe/1"
STEP_KEY = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
MAX_STEPS = 50
RESERVED_KEYS = {"trigger", "steps", "loop", "run"}


@dataclass(frozen=True)
class Problem:
    message: str
    step: str | None = None
    field: str | None = None
    # Only a missing connection: the recipe imports as a draft.
    connection: bool = False
    # Only a secret to be entered (files never carry one): the recipe imports as a draft.
    secret: bool = False

    def __str__(self) -> str:
        where = []
        if self.step:
            where.append(
                _("the trigger")
                if self.step == "trigger"
                else _("step “%(key)s”") % {"key": self.step}
            )
        if self.field:
            where.append(_("field “%(field)s”") % {"field": self.field})
        if not where:
            return self.message
        return _("In %(place)s: %(message)s") % {"place": ", ".join(where), "message": self.message}


class RecipeFormatError(ValueError):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def parse(text: str) -> Any:
    """A recipe file's JSON. Raises RecipeFormatError saying what a person can fix: an empty
    file, or where the JSON breaks (never the parser's own wording)."""
    if not text.strip():
        raise RecipeFormatError(
            [Problem(_("The file is empty: choose a recipe file or paste its text."))]
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        message = _("The file is not valid JSON: look at line %(line)s, column %(column)s.")
        where = {"line": error.lineno, "column": error.colno}
        raise RecipeFormatError([Problem(message % where)]) from None
    except RecursionError:
        raise RecipeFormatError([Problem(_("The file is nested too deeply."))]) from None


class UnknownStep(IntegrationError):
    """A step names an app or action that does not exist; ``part`` says which."""

    def __init__(self, part: str, message: str) -> None:
        super().__init__(message, permanent=True)
        self.part = part


def find_action(app: str, action: str) -> tuple[Any, Action]:
    """The integration and action a step names; raises UnknownStep when unknown."""
    try:
        integration = registry.get(app)
    except IntegrationError:
        raise UnknownStep("app", _("There is no app called “%(app)s”.") % {"app": app}) from None
    if action not in integration.actions:
        raise UnknownStep(
            "action",
            _("%(app)s has no action “%(action)s”.")
            % {"app": integration.name or app, "action": action},
        )
    return integration, integration.actions[action]


def needs_connection(integration) -> bool:
    return integration is not None and (
        integration.oauth is not None
        or integration.uses_api_key
        # The llm steps run on a provider's connection.
        or bool(getattr(integration, "connection_slugs", ()))
    )


def normalize(document: Any) -> dict:
    """Check the document's shape and return it in canonical form; raises RecipeFormatError."""
    problems: list[Problem] = []
    if not isinstance(document, dict):
        raise RecipeFormatError([Problem(_("A recipe file holds one JSON object."))])
    if document.get("format") != FORMAT:
        problems.append(Problem(_("“format” must be “%(format)s”.") % {"format": FORMAT}))
    name = document.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(Problem(_("A recipe needs a “name”.")))
    trigger = document.get("trigger") or {"app": "manual"}
    if not isinstance(trigger, dict):
        problems.append(Problem(_("“trigger” must be an object."), step="trigger"))
        trigger = {"app": "manual"}
    steps = document.get("steps") or []
    if not isinstance(steps, list):
        problems.append(Problem(_("“steps” must be a list.")))
        steps = []
    if len(steps) > MAX_STEPS:
        problems.append(Problem(_("A recipe has at most %(n)s steps.") % {"n": MAX_STEPS}))
    trigger, trigger_problems = _normalize_trigger(trigger)
    problems += trigger_problems
    clean_steps = []
    seen: set[str] = set()
    for index, step in enumerate(steps, start=1):
        if not isinstance(step, dict):
            problems.append(Problem(_("Step %(n)s must be an object.") % {"n": index}))
            continue
        key = step.get("key")
        label = key if isinstance(key, str) and key else f"#{index}"
        if not isinstance(key, str) or not STEP_KEY.match(key) or key in RESERVED_KEYS:
            problems.append(
                Problem(
                    _(
                        "A step key is lower-case letters, digits and _ and starts with a letter "
                        "(not trigger, steps, loop or run)."
                    ),
                    step=label,
                )
            )
        elif key in seen:
            problems.append(Problem(_("Two steps have this key; each key must be unique."), label))
        seen.add(label)
        for part in ("app", "action"):
            if not isinstance(step.get(part), str) or not step.get(part):
                problems.append(Problem(_("A step needs “%(part)s”.") % {"part": part}, step=label))
        config = step.get("config") or {}
        if not isinstance(config, dict):
            problems.append(Problem(_("“config” must be an object."), step=label))
            config = {}
        clean = {"key": key, "app": step.get("app"), "action": step.get("action")}
        if step.get("name"):
            clean["name"] = str(step["name"])
        if step.get("connection"):
            clean["connection"] = str(step["connection"])
            # Stored documents name the connection by id too (hub.recipes.services
            # resolves it; import drops any id a file carries, export writes none).
            connection_id = step.get("connection_id")
            if isinstance(connection_id, int) and not isinstance(connection_id, bool):
                clean["connection_id"] = connection_id
        clean["config"] = config
        clean_steps.append(clean)
    zone_name = document.get("timezone")
    if zone_name not in (None, "") and not is_zone(zone_name):
        problems.append(
            Problem(
                _(
                    "“%(zone)s” is not a time zone: use an IANA name such as Asia/Seoul or "
                    "Europe/Paris, or leave “timezone” out to use the workspace's."
                )
                % {"zone": str(zone_name)[:64]},
                field="timezone",
            )
        )
    if problems:
        raise RecipeFormatError(problems)
    out = {"format": FORMAT, "name": name.strip(), "description": document.get("description", "")}
    if zone_name:
        # Optional: without it the recipe follows its workspace's time zone.
        out["timezone"] = zone_name
    out["trigger"] = trigger
    out["steps"] = clean_steps
    return out


def find_trigger(app: Any, event: Any) -> Trigger:
    """The trigger a recipe names, from the registry; raises UnknownStep when unknown. An app
    with one trigger needs no event (``{"app": "manual"}``)."""
    if not isinstance(app, str) or app not in registry.with_triggers():
        raise UnknownStep(
            "app",
            _("There is no trigger called “%(app)s”; use one of: %(apps)s.")
            % {"app": app, "apps": ", ".join(registry.with_triggers())},
        )
    triggers = registry.get(app).triggers
    if event is None and len(triggers) == 1:
        return next(iter(triggers.values()))
    if event not in triggers:
        raise UnknownStep(
            "event",
            _("“%(app)s” has no trigger “%(event)s”; use one of: %(events)s.")
            % {"app": app, "event": event, "events": ", ".join(triggers)},
        )
    return triggers[event]


def _normalize_trigger(trigger: dict) -> tuple[dict, list[Problem]]:
    app = trigger.get("app", "manual")
    # A schedule without an event is a cron schedule, as files have always been read.
    event = trigger.get("event", "cron" if app == "schedule" else None)
    try:
        found = find_trigger(app, event)
    except UnknownStep as error:
        return trigger, [Problem(error.message, step="trigger", field=error.part)]
    if app == "manual":
        return {"app": "manual"}, []
    if app != "schedule":
        out, found_problems = trigger_format.normalize(trigger, found)
        return out, [Problem(m, step="trigger", field=f) for m, f, _c in found_problems]
    try:
        config = schedule.normalize(found.key, trigger.get("config") or {})
    except schedule.ScheduleError as error:
        return trigger, [Problem(str(error), step="trigger", field="config")]
    return {"app": "schedule", "event": found.key, "config": config}, []


def validate(document: dict, connection_labels: dict[str, set[str]] | None = None) -> list[Problem]:
    """Every problem of a normalized document, checked against the integrations' field
    declarations and the mapping language. ``connection_labels`` maps app slug to the labels
    of the workspace's connections; None skips the connection check."""
    from hub import mapping

    problems: list[Problem] = []
    steps = document["steps"]
    keys = [s["key"] for s in steps]
    known_steps: dict[str, Any] = {}
    known: dict[str, Any] = {
        "trigger": _trigger_shape(document["trigger"]),
        "steps": known_steps,
        "run": {"id": 1, "recipe": document["name"]},
    }
    problems += _trigger_problems(document["trigger"], connection_labels)
    loop_seen = False
    branch_steps: dict[str, str] = {}
    for index, step in enumerate(steps):
        key = step["key"]
        try:
            integration, action = find_action(step["app"], step["action"])
        except IntegrationError as error:
            part = getattr(error, "part", "action")
            problems.append(Problem(error.message, step=key, field=part))
            known_steps[key] = None
            continue
        config = step["config"]
        declared = {f.key: f for f in action.fields}
        if action.fields_provider is None:
            for name in config:
                if name not in declared:
                    problems.append(Problem(_("This action has no such field."), key, name))
        for f in action.fields:
            value = config.get(f.key, f.default)
            if f.kind == "secret" and value is not None:
                problems += _check_secret(f, value, key)
            elif f.required and (value is None or value == "" or value == [] or value == {}):
                problems.append(
                    Problem(_("“%(label)s” is required.") % {"label": f.label}, key, f.key)
                )
            else:
                problems += [Problem(m, key, where) for m, where in check_field(f, value)]
        if needs_connection(integration):
            label = step.get("connection")
            if not label:
                problems.append(
                    Problem(
                        _("Choose a %(app)s connection for this step.") % {"app": integration.name},
                        key,
                        "connection",
                        connection=True,
                    )
                )
            elif connection_labels is not None and not any(
                label in connection_labels.get(slug, set())
                for slug in getattr(integration, "uses_connections_of", (step["app"],))
            ):
                problems.append(
                    Problem(
                        _("Connect %(app)s as “%(label)s” under Connections, then publish again.")
                        % {"app": integration.name, "label": label},
                        key,
                        "connection",
                        connection=True,
                    )
                )
        if step["app"] == "builtin" and step["action"] == "loop":
            if loop_seen:
                problems.append(Problem(_("A recipe has at most one loop."), key))
            loop_seen = True
        if step["app"] == "builtin" and step["action"] == "paths":
            problems += _check_paths(step, keys[index + 1 :], branch_steps)
        for error in mapping.check(config, known, step=key, later_steps=keys[index:]):
            problems.append(Problem(error.message, key, error.field))
        if step["app"] == "builtin" and step["action"] == "loop":
            known["loop"] = {"item": None, "index": 0, "count": 1}
        known_steps[key] = action.output_shape(config)
    return problems


def _trigger_problems(trigger: dict, labels: dict[str, set[str]] | None) -> list[Problem]:
    """An app trigger's config and connection, checked as a step's are."""
    if trigger.get("app") in (None, "manual", "webhook", "schedule"):
        return []
    found = find_trigger(trigger.get("app"), trigger.get("event"))
    found_problems = trigger_format.check(trigger, found, registry.get(trigger["app"]), labels)
    return [Problem(m, "trigger", f, connection=c) for m, f, c in found_problems]


def _trigger_shape(trigger: dict) -> dict | None:
    try:
        return find_trigger(trigger.get("app"), trigger.get("event")).output_shape()
    except UnknownStep:
        return None


def _check_secret(f, value: Any, step: str) -> list[Problem]:
    from hub.engine import secrets

    if value == "":
        message = _(
            "Enter “%(label)s” under Secret values on this recipe's page: secrets are never "
            "kept in recipe files."
        )
        return [Problem(message % {"label": f.label}, step, f.key, secret=True)]
    text = isinstance(value, str | int | float) and not isinstance(value, bool)
    if not (text or secrets.is_sealed(value)):
        message = _("“%(label)s” is a secret: write it as text.") % {"label": f.label}
        return [Problem(message, step, f.key)]
    return []


def _check_paths(step: dict, later: list[str], claimed: dict[str, str]) -> list[Problem]:
    key = step["key"]
    problems: list[Problem] = []
    branches = step["config"].get("branches")
    if not isinstance(branches, list) or not branches:
        return [Problem(_("Add at least one path."), key, "branches")]
    names = set()
    for i, branch in enumerate(branches):
        where = f"branches.{i}"
        if not isinstance(branch, dict):
            problems.append(Problem(_("Each path is an object."), key, where))
            continue
        name = branch.get("name")
        if not isinstance(name, str) or not name or name in names:
            problems.append(Problem(_("Each path needs a unique name."), key, f"{where}.name"))
        names.add(name)
        for target in branch.get("steps") or []:
            if target not in later:
                problems.append(
                    Problem(
                        _("“%(key)s” is not a step after this one.") % {"key": target},
                        key,
                        f"{where}.steps",
                    )
                )
            elif target in claimed and claimed[target] != f"{key}:{name}":
                problems.append(
                    Problem(
                        _("“%(key)s” is already on another path.") % {"key": target},
                        key,
                        f"{where}.steps",
                    )
                )
            else:
                claimed[target] = f"{key}:{name}"
    return problems


def blocking(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if not (p.connection or p.secret)]


def export(document: dict) -> dict:
    """The document as it travels: connections by label, never a token, a secret (written
    blank, to be entered) or an internal id."""
    from hub.engine import secrets

    out = secrets.to_file(normalize(document))
    for step in [out["trigger"], *out["steps"]]:
        step.pop("connection_id", None)
    return out
