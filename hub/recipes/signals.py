"""Pausing recipes when the engine or the connections say they cannot run: a connection that
stops working, or a publisher who may no longer use one."""

from __future__ import annotations

import logging

from django.dispatch import receiver

from hub.connections.signals import connection_broken
from hub.engine.signals import publisher_lost_access

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


@receiver(publisher_lost_access)
def pause_version(sender, version_id, reason, **kwargs) -> None:
    """A step found that the version's publisher may no longer use its connection: pause the
    recipe, unless it has been republished or paused meanwhile."""
    from hub.recipes.services import pause_for

    pause_for(version_id, reason)
