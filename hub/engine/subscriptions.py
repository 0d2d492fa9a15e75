"""Registering an instant trigger's webhook at its app (ClickUp) while its recipe is active.

``sync(recipe_id)`` makes the app's side match the recipe: publishing registers the webhook
(``POST /team/{id}/webhook``), pausing, unpublishing or deleting removes it, and publishing
other trigger settings replaces it; a republish with the same settings keeps it. It runs after
the recipe's transaction commits (a receiver of the recipe's ``post_save``), so a rolled-back
publish registers nothing and no database lock is held while the app answers.

``check_all()`` (a periodic task) asks the app for each webhook's health and registers again
the ones it reports ``failing`` or ``suspended``, the ones it no longer has, and the ones whose
registration failed before.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save, pre_delete
from django.urls import reverse
from django.utils import timezone

from hub.engine.app_events import hub_is_public, recipe_model
from integrations import registry
from integrations.base import Context, IntegrationError
from integrations.clickup import webhooks as clickup_webhooks

log = logging.getLogger(__name__)

# The apps whose instant triggers need a registration per recipe (Slack's events come to one
# address per deployment and need none).
SUBSCRIBING_APPS = ("clickup",)


@dataclass(frozen=True)
class Wanted:
    connection: Any
    scope: dict


def _subscriptions():
    from hub.connections.models import AppSubscription

    return AppSubscription


def _wanted(recipe) -> Wanted | None:
    """What the recipe's trigger needs registered now, or None."""
    from hub.connections.models import Connection

    version = recipe.current_version if recipe else None
    if version is None or recipe.state != recipe_model().State.ACTIVE:
        return None
    trigger = version.document.get("trigger") or {}
    app = trigger.get("app")
    if app not in SUBSCRIBING_APPS or not hub_is_public():
        return None
    connection = (
        Connection.objects.filter(
            workspace_id=recipe.workspace_id, integration=app, label=trigger.get("connection")
        )
        .active()
        .first()
    )
    if connection is None:
        return None
    scope = {"event": trigger.get("event"), "config": trigger.get("config") or {}}
    return Wanted(connection, scope)


def _context(subscription, connection=None) -> Context:
    return Context(
        workspace_id=subscription.recipe.workspace_id if subscription.recipe_id else 0,
        config=(subscription.scope or {}).get("config") or {},
        connection=connection or subscription.connection,
        integration=registry.get(subscription.integration),
    )


def endpoint(subscription) -> str:
    path = reverse("app_webhook", args=[subscription.integration, subscription.token])
    return settings.HUB_BASE_URL + path


def _register(subscription) -> None:
    """Register (again) at the app; the outcome is recorded on the row, never raised."""
    Subscription = _subscriptions()
    ctx = _context(subscription)
    try:
        if subscription.external_id:
            clickup_webhooks.delete(ctx, subscription.external_id)
        registration = clickup_webhooks.register(ctx, endpoint(subscription))
    except IntegrationError as error:
        log.warning(
            "Registering the webhook of recipe %s failed: %s", subscription.recipe_id, error
        )
        subscription.status = Subscription.Status.UNHEALTHY
        subscription.last_error = error.message[:500]
    else:
        subscription.external_id = registration.webhook_id
        subscription.secret = registration.secret
        subscription.status = Subscription.Status.ACTIVE
        subscription.last_error = ""
    subscription.checked_at = timezone.now()
    subscription.save()


def _remove(subscription) -> None:
    if subscription.external_id:
        try:
            clickup_webhooks.delete(_context(subscription), subscription.external_id)
        except IntegrationError as error:
            # Its deliveries now reach an address that answers 404, so ClickUp suspends it.
            log.warning("Could not remove ClickUp webhook %s: %s", subscription.external_id, error)
    subscription.delete()


def sync(recipe_id: int) -> None:
    Subscription = _subscriptions()
    recipe = recipe_model().objects.select_related("current_version").filter(pk=recipe_id).first()
    wanted = _wanted(recipe)
    existing = Subscription.objects.select_related("recipe", "connection").filter(
        recipe_id=recipe_id
    )
    existing = existing.first()
    if existing is not None and (
        wanted is None
        or existing.scope != wanted.scope
        or existing.connection_id != wanted.connection.pk
    ):
        _remove(existing)
        existing = None
    if wanted is None:
        return
    if existing is None:
        existing, created = Subscription.objects.get_or_create(
            recipe=recipe,
            defaults={
                "connection": wanted.connection,
                "integration": wanted.connection.integration,
                "scope": wanted.scope,
            },
        )
        if not created:
            return  # another sync of this recipe got there first
        _register(existing)
    elif existing.status != Subscription.Status.ACTIVE:
        _register(existing)


def check_all() -> int:
    """Re-register every webhook its app reports unhealthy or no longer has; returns how many
    were registered again."""
    Subscription = _subscriptions()
    redone = 0
    groups: dict[tuple[int, str], list] = {}
    for subscription in Subscription.objects.select_related("recipe", "connection"):
        if _wanted(subscription.recipe) is None:
            _remove(subscription)
            continue
        team = clickup_webhooks.scope_of(subscription.scope.get("config") or {})["team_id"]
        groups.setdefault((subscription.connection_id, team), []).append(subscription)
    for (_connection_id, team), members in groups.items():
        try:
            health = clickup_webhooks.health(_context(members[0]), team)
        except IntegrationError as error:
            log.warning("Could not read ClickUp webhook health of team %s: %s", team, error)
            continue
        for subscription in members:
            found = health.get(subscription.external_id)
            if (
                found is None
                or found.status in clickup_webhooks.UNHEALTHY
                # The hub's address changed (HUB_BASE_URL): deliveries go elsewhere.
                or found.endpoint != endpoint(subscription)
                or subscription.status != Subscription.Status.ACTIVE
            ):
                status = found.status if found else "gone"
                log.info("Re-registering webhook of recipe %s (%s)", subscription.recipe_id, status)
                _register(subscription)
                redone += 1
            else:
                Subscription.objects.filter(pk=subscription.pk).update(checked_at=timezone.now())
    return redone


# -- hooks on the recipe's life (the recipes are the layer above: reached through signals)


def _saved(sender, instance, created, update_fields=None, **kwargs) -> None:
    if update_fields is not None and not {"state", "current_version"} & set(update_fields):
        return  # a draft edit
    if instance.pk is None:
        return
    recipe_id = instance.pk
    transaction.on_commit(lambda: _sync_quietly(recipe_id))


def _sync_quietly(recipe_id: int) -> None:
    try:
        sync(recipe_id)
    except Exception:
        # The periodic check tries again; publishing or pausing must not fail for this.
        log.exception("Could not sync the app webhook of recipe %s", recipe_id)


def _deleting(sender, instance, **kwargs) -> None:
    for subscription in (
        _subscriptions().objects.filter(recipe=instance).select_related("recipe", "connection")
    ):
        ctx = _context(subscription)
        webhook_id = subscription.external_id
        if webhook_id:
            transaction.on_commit(lambda ctx=ctx, w=webhook_id: _delete_quietly(ctx, w))


def _delete_quietly(ctx: Context, webhook_id: str) -> None:
    try:
        clickup_webhooks.delete(ctx, webhook_id)
    except IntegrationError as error:
        log.warning("Could not remove ClickUp webhook %s: %s", webhook_id, error)


def connect() -> None:
    post_save.connect(_saved, sender="recipes.Recipe", dispatch_uid="app-subscriptions-sync")
    pre_delete.connect(_deleting, sender="recipes.Recipe", dispatch_uid="app-subscriptions-drop")
