"""What each card of the editor shows, from the draft and the registry: the trigger card, the
step cards (choose the app, then what it should do, then the connection and the fields), the
data the Insert data picker offers, and the problems that block publishing, each located
("Step 3 · Gmail · “To” is required.") with the id of the control to focus."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.urls import reverse
from django.utils.translation import gettext as _

from hub.connections.models import Connection
from hub.recipes import services
from hub.recipes.format import RecipeFormatError, needs_connection, normalize
from hub.web import editor_fields
from integrations import registry
from integrations.base import Context, IntegrationError, OutputField

PROVIDED_FIELDS_SECONDS = 60


def icon(slug: str, name: str) -> dict:
    """A letter on a colour of the app's own (stable per slug), for the app chooser."""
    hue = int(hashlib.sha256(slug.encode()).hexdigest()[:4], 16) % 360
    return {"letter": (str(name) or slug)[:1].upper(), "hue": hue}


def app_entry(slug: str) -> dict:
    integration = registry.get(slug)
    return {
        "slug": slug,
        "name": str(integration.name or slug),
        "icon": icon(slug, integration.name),
    }


def step_apps() -> list[dict]:
    return [app_entry(slug) for slug in registry.available() if registry.get(slug).actions]


def trigger_apps() -> list[dict]:
    return [app_entry(slug) for slug in registry.with_triggers()]


def find(app: str, key: str, *, trigger: bool = False):
    """(integration, action or trigger) or (None, None) when the draft names none."""
    try:
        integration = registry.get(app) if app else None
    except IntegrationError:
        return None, None
    if integration is None:
        return None, None
    table = integration.triggers if trigger else integration.actions
    if trigger and not key and len(table) == 1:
        return integration, next(iter(table.values()))
    return integration, table.get(key or "")


def usable_connections(request, integration) -> list[Connection]:
    """The member's usable connections for the app, asked once per request (a page of
    cards asks for each card)."""
    known = request.__dict__.setdefault("_usable_connections", {})
    slugs = tuple(integration.uses_connections_of)
    if slugs not in known:
        known[slugs] = list(
            Connection.objects.usable_by(request.user, request.workspace, request.membership)
            .filter(integration__in=slugs)
            .order_by("label")
        )
    return known[slugs]


def provided_fields(request, integration, action, connection, config: dict) -> list:
    """Fields a fields provider gives for the chosen values (a database's properties), cached
    briefly per connection and choices; none until a connection is chosen."""
    if action.fields_provider is None or connection is None:
        return []
    plain = {k: v for k, v in config.items() if not editor_fields.is_reference(v)}
    key = hashlib.sha256(
        repr((connection.pk, integration.slug, action.key, sorted(plain.items(), key=str))).encode()
    ).hexdigest()
    found = cache.get(f"hub:fields:{key}")
    if found is None:
        ctx = Context(
            workspace_id=request.workspace.id,
            config=plain,
            connection=connection,
            integration=integration,
        )
        try:
            found = list(action.fields_provider(ctx))
        except IntegrationError:
            found = []
        cache.set(f"hub:fields:{key}", found, PROVIDED_FIELDS_SECONDS)
    declared = {f.key for f in action.fields}
    return [f for f in found if f.key not in declared]


# ---------------------------------------------------------------- Insert data


@dataclass
class DataGroup:
    title: str
    items: list[dict] = field(default_factory=list)


def _sample_text(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, (dict, list)):
        text = editor_fields._text(value).replace("\n", " ")
    else:
        text = str(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _items(root: str, outputs, sample: dict, title: str) -> list[dict]:
    items = []
    declared = set()
    for output in outputs:
        declared.add(output.key)
        value = sample.get(output.key) if isinstance(sample, dict) else None
        items.append(_item(f"{root}.{output.key}", f"{title} · {output.label}", value))
        children = output.children or _sample_children(output, value)
        for child in children:
            inner = (
                value[0] if output.kind == "list" and isinstance(value, list) and value else value
            )
            child_value = inner.get(child.key) if isinstance(inner, dict) else None
            path = (
                f"{root}.{output.key}.0.{child.key}"
                if output.kind == "list"
                else f"{root}.{output.key}.{child.key}"
            )
            where = _("first") if output.kind == "list" else ""
            label = " · ".join(p for p in (title, str(output.label), where, str(child.label)) if p)
            items.append(_item(path, label, child_value))
    # Test results may hold more than the declaration (a database's own properties).
    for key, value in (sample or {}).items() if isinstance(sample, dict) else ():
        if key not in declared and isinstance(key, str) and key.isidentifier():
            items.append(
                _item(f"{root}.{key}", f"{title} · {key.replace('_', ' ').capitalize()}", value)
            )
    return items


def _sample_children(output: OutputField, value: Any) -> tuple[OutputField, ...]:
    """Keys inside a list's first item or an object, read from the sample when the
    declaration names none (an email's subject in a list of emails)."""
    inner = value[0] if output.kind == "list" and isinstance(value, list) and value else value
    if not isinstance(inner, dict):
        return ()
    return tuple(
        OutputField(key, key.replace("_", " ").capitalize())
        for key in list(inner)[:30]
        if isinstance(key, str) and key.isidentifier()
    )


def _item(path: str, label: str, value: Any) -> dict:
    return {"ref": path, "label": label, "sample": _sample_text(value)}


def data_groups(draft: dict, upto: int | None, samples: dict) -> list[DataGroup]:
    """What the steps before position ``upto`` (None: all) and the trigger give."""
    groups = []
    trigger = draft.get("trigger") or {}
    _integration, declared = find(trigger.get("app", "manual"), trigger.get("event"), trigger=True)
    tested = samples.get("trigger")
    sample = tested.output if tested and isinstance(tested.output, dict) else None
    if declared is not None:
        title = _("Trigger")
        outputs = declared.outputs
        items = _items("trigger", outputs, sample or dict(declared.sample), title)
        if items:
            groups.append(DataGroup(title, items))
    for index, step in enumerate((draft.get("steps") or [])[:upto]):
        integration, action = find(step.get("app"), step.get("action"))
        if action is None:
            continue
        tested = samples.get(step["key"])
        sample = (
            tested.output if tested and isinstance(tested.output, dict) else dict(action.sample)
        )
        title = str(step.get("name") or action.label)
        heading = _("Step %(n)s · %(app)s · %(action)s") % {
            "n": index + 1,
            "app": integration.name,
            "action": action.label,
        }
        groups.append(
            DataGroup(heading, _items(f"steps.{step['key']}", action.outputs, sample, title))
        )
    return groups


def chip_labels(groups: list[DataGroup]) -> dict[str, str]:
    return {item["ref"]: item["label"] for group in groups for item in group.items}


# ---------------------------------------------------------------- problems


def incomplete(draft: dict) -> list[services.Problem]:
    found = []
    trigger = draft.get("trigger") or {}
    if _event_unchosen(trigger):
        found.append(
            services.Problem(_("Choose when the recipe should start."), "trigger", "event")
        )
    for step in draft.get("steps") or []:
        if not step.get("app"):
            found.append(services.Problem(_("Choose an app for this step."), step["key"], "app"))
        elif not step.get("action"):
            found.append(
                services.Problem(_("Choose what this step should do."), step["key"], "action")
            )
    return found


def problems(request, draft: dict, manage: bool = True) -> list[dict]:
    """Every problem that blocks publishing, located for a member to click."""
    found = incomplete(draft)
    complete = dict(
        draft, steps=[s for s in draft.get("steps") or [] if s.get("app") and s.get("action")]
    )
    try:
        document = normalize(complete)
    except RecipeFormatError as error:
        # An app chosen without its event is said plainly above, not as the file's keys.
        unchosen = _event_unchosen(draft.get("trigger") or {})
        found += [
            p
            for p in error.problems
            if not (unchosen and (p.step, p.field) == ("trigger", "event"))
        ]
    else:
        found += services.check(
            request.workspace,
            document,
            user=request.user if manage else None,
            membership=request.membership,
        )
    return [locate(draft, p) for p in found]


def _event_unchosen(trigger: dict) -> bool:
    """A trigger app chosen in the editor, but not yet when it should start."""
    app = trigger.get("app")
    if not app or trigger.get("event") or app in ("manual", "schedule"):
        return False
    integration, _t = find(app, None, trigger=True)
    return integration is not None and len(integration.triggers) > 1


def place(draft: dict, key: str | None) -> tuple[str, str]:
    """("Step 3 · Gmail", card id) for a step key, ("Trigger · Schedule", "trigger")."""
    if key == "trigger" or key is None:
        trigger = draft.get("trigger") or {}
        integration, _t = find(trigger.get("app", "manual"), trigger.get("event"), trigger=True)
        name = integration.name if integration else trigger.get("app", "")
        return f"{_('Trigger')} · {name}", "trigger"
    for index, step in enumerate(draft.get("steps") or []):
        if step.get("key") == key:
            integration, _a = find(step.get("app"), step.get("action"))
            where = _("Step %(n)s") % {"n": index + 1}
            if integration is not None:
                where = f"{where} · {integration.name}"
            return where, f"step-{key}"
    return str(key), ""


def locate(draft: dict, problem) -> dict:
    where, card = place(draft, problem.step)
    target = card
    if card and problem.field:
        target = f"{card}-{problem.field.replace('.', '-')}"
    return {"text": f"{where} · {problem.message}", "target": target, "card": card}


def connection_needed(integration) -> bool:
    return needs_connection(integration)


def connect_url(slug: str) -> str:
    return reverse("connection_app", args=[slug])


def output_labels(outputs: tuple[OutputField, ...]) -> dict[str, str]:
    return {o.key: str(o.label) for o in outputs}
