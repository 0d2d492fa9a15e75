"""Pausing the recipes that use a connection when it stops working."""

from __future__ import annotations

import logging

from django.dispatch import receiver

from hub.connections.signals import connection_broken

log = logging.getLogger(__name__)


def recipes_using(connection):
    """Active recipes whose running version uses the connection (by id: its label may have
    changed since)."""
    from hub.recipes.models import Recipe

    return list(
        Recipe.objects.filter(
            workspace_id=connection.workspace_id,
            state=Recipe.State.ACTIVE,
            current_version__connections=connection,
        ).distinct()
    )


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
