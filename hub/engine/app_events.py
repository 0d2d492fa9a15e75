"""Events that apps push to the hub — Slack's Events API (or Socket Mode) and ClickUp webhook
deliveries — turned into runs.

Callers (``hub/web/app_events.py``, the Socket Mode command) check the signature before
calling in here. Each accepted event inserts one run per recipe it fires, keyed
``trigger:<recipe>:<item id>`` (a Slack message's channel and ts, as the polling fallback
keys it; a reaction's event_id; a ClickUp change's history item), in one transaction,
before the caller answers: an event is either stored with its runs or refused, and the same
event delivered again (a retry, a replay within the signature's five minutes, Socket Mode and
HTTP both on, or a poll finding the same message) finds its keys used and starts nothing.
Nothing here calls an app, so the answer goes back within Slack's 3 s.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction

from hub.engine.models import Run
from hub.engine.runs import start_run
from integrations.clickup import webhooks as clickup_webhooks
from integrations.slack import events as slack_events

log = logging.getLogger(__name__)


class NotFound(Exception):
    """No connection or webhook of the hub's is behind this event."""


def recipe_model():
    # The recipes are the layer above: their model is reached through the run's relation.
    return Run._meta.get_field("recipe").related_model


def hub_is_public() -> bool:
    """Whether apps can reach this deployment: ``HUB_BASE_URL`` is not on a loopback,
    private or link-local address (nor ``localhost`` or a ``.local`` / ``.internal`` name)."""
    host = (urlsplit(settings.HUB_BASE_URL).hostname or "").lower()
    if not host or host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return True  # a name: taken to be public
    return address.is_global


# -- Slack


def iter_signing_secrets():
    """Every signing secret a Slack app of this deployment may sign with, lazily: the
    environment's first, then those admins entered (one endpoint serves every workspace), read
    only when the first did not match."""
    from hub.connections.models import OAuthApp

    if settings.SLACK_SIGNING_SECRET:
        yield settings.SLACK_SIGNING_SECRET
    apps = OAuthApp.objects.filter(integration="slack").exclude(signing_secret="")
    for app in apps.only("signing_secret"):
        yield app.signing_secret


def slack_signing_secrets() -> list[str]:
    return list(dict.fromkeys(iter_signing_secrets()))


def slack_app_token() -> str:
    from hub.connections.models import OAuthApp

    if settings.SLACK_APP_TOKEN:
        return settings.SLACK_APP_TOKEN
    for app in OAuthApp.objects.filter(integration="slack").order_by("workspace_id"):
        if app.app_token:
            return app.app_token
    return ""


def slack_events_ready() -> bool:
    """Slack can push events here: Socket Mode is set up, or a signing secret and a public
    address are. Otherwise the Slack message triggers poll."""
    return bool(slack_app_token()) or (bool(slack_signing_secrets()) and hub_is_public())


def instant_ready(app: str) -> bool:
    """Whether an instant trigger of ``app`` is pushed to this deployment; when False the
    poller runs the trigger's ``poll`` fallback instead."""
    if app == "slack":
        return slack_events_ready()
    if app == "clickup":
        return hub_is_public()
    return False


def _team_of(envelope: Mapping[str, Any]) -> str:
    team = envelope.get("team_id")
    if not team:
        authorizations = envelope.get("authorizations") or [{}]
        team = (authorizations[0] or {}).get("team_id")
    return str(team or "")


def route_slack_event(envelope: Mapping[str, Any]) -> list[int]:
    """Start a run of every active recipe, in any workspace connected to the event's Slack
    team, whose trigger the event fires. Returns the new runs' ids (none for an event seen
    before). Raises NotFound when no connection is of that team."""
    from hub.connections.models import Connection

    team_id = _team_of(envelope)
    event = envelope.get("event") or {}
    event_id = str(envelope.get("event_id") or "")
    connections = list(
        Connection.objects.filter(integration="slack", external_id=team_id).only(
            "id", "workspace_id", "label", "details"
        )
    )
    if not team_id or not event_id or not connections:
        raise NotFound(team_id)
    by_workspace: dict[tuple[int, str], Any] = {(c.workspace_id, c.label): c for c in connections}
    recipes = (
        recipe_model()
        .objects.filter(
            workspace_id__in={c.workspace_id for c in connections},
            state=recipe_model().State.ACTIVE,
            current_version__document__trigger__app="slack",
            current_version__document__trigger__event__in=slack_events.TRIGGERS_OF_EVENT.get(
                str(event.get("type")), ()
            ),
        )
        .select_related("current_version")
    )
    started: list[int] = []
    with transaction.atomic():
        for recipe in recipes:
            trigger = recipe.current_version.document.get("trigger") or {}
            connection = by_workspace.get((recipe.workspace_id, trigger.get("connection")))
            if connection is None:
                continue  # a recipe on another Slack team's connection
            # The hub's own bot never fires a recipe: a recipe posting where it listens would
            # otherwise start itself again and again.
            own_bot = (connection.details or {}).get("bot_user_id")
            if own_bot and event.get("user") == own_bot:
                continue
            key = str(trigger.get("event") or "")
            if not slack_events.matches(key, trigger.get("config") or {}, event):
                continue
            run = start_run(
                recipe,
                Run.Source.APP,
                slack_events.trigger_data(key, envelope),
                dedupe_key=f"trigger:{recipe.pk}:{slack_events.item_id(key, envelope)}",
                version=recipe.current_version,
            )
            if run is not None:
                started.append(run.pk)
    return started


# -- ClickUp


def clickup_subscription(token: str):
    """The active recipe's webhook registration behind a delivery address, or NotFound."""
    from hub.connections.models import AppSubscription

    subscription = (
        AppSubscription.objects.select_related("recipe__current_version")
        .filter(token=token, integration="clickup")
        .first()
    )
    if subscription is None:
        raise NotFound(token)
    return subscription


def clickup_delivery(subscription, delivery: Mapping[str, Any]) -> int | None:
    """Start the recipe's run for a verified delivery (its task is fetched when the run
    starts). Returns the run id, or None when the delivery does not fire the trigger or was
    delivered before."""
    recipe = subscription.recipe
    version = recipe.current_version
    if recipe.state != recipe_model().State.ACTIVE or version is None:
        return None
    if str(delivery.get("webhook_id") or "") != subscription.external_id:
        return None  # from a webhook since replaced
    trigger = version.document.get("trigger") or {}
    key = str(trigger.get("event") or "")
    if not clickup_webhooks.matches(key, trigger.get("config") or {}, delivery):
        return None
    run = start_run(
        recipe,
        Run.Source.APP,
        clickup_webhooks.event_data(delivery),
        dedupe_key=f"trigger:{recipe.pk}:{clickup_webhooks.item_id(delivery)}",
        version=version,
    )
    return run.pk if run else None


def recent_events(recipe, limit: int = 3) -> list[dict]:
    """The data of the newest events that started the recipe, newest first: what "Test
    trigger" shows for an instant trigger the app cannot be asked about (Slack reactions)."""
    runs = Run.objects.filter(recipe=recipe, source=Run.Source.APP).order_by("-created_at", "-id")
    return [data for data in runs.values_list("trigger_data", flat=True)[:limit]]
