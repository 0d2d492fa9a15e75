"""Pausing the recipes that use a connection when it stops working."""

from __future__ import annotations

import logging

from django.dispatch import receiver

from hub.connections.signals import connection_broken

log = logging.getLogger(__name__)


def recipes_using(connection):
    from hub.recipes.models import Recipe

    app = connection.integration
    found = []
    for recipe in Recipe.objects.filter(
        workspace_id=connection.workspace_id, state=Recipe.State.ACTIVE
    ).select_related("current_version"):
        version = recipe.current_version
        if version and any(
            step.get("app") == app and step.get("connection") == connection.label
            for step in version.steps
        ):
            found.append(recipe)
    return found


@receiver(connection_broken)
def pause_recipes(sender, connection, **kwargs) -> None:
    from hub.engine.messages import Message, gettext_noop
    from hub.recipes.services import set_paused

    if connection.last_error:
        reason = Message(
            gettext_noop("The connection “%(label)s” needs reconnecting: %(detail)s"),
            label=connection.label,
            detail=connection.last_error,
        )
    else:
        reason = Message(
            gettext_noop("The connection “%(label)s” needs reconnecting."),
            label=connection.label,
        )
    for recipe in recipes_using(connection):
        log.info("Pausing recipe %s: %s", recipe.pk, reason)
        set_paused(recipe, True, reason=reason)
