"""A step's connection: found by id, checked against its publisher's right to use it at every
run, refreshed or marked broken when the app refuses it (docs/engine.md, "Who may use what")."""

from __future__ import annotations

import logging

from django.db.models import BooleanField, ExpressionWrapper

from hub.engine.compiled_sql import CompiledModelQuery
from hub.engine.leases import Execution
from hub.engine.messages import Message, gettext_noop
from hub.engine.models import Run
from hub.engine.signals import publisher_lost_access
from integrations.base import IntegrationError

log = logging.getLogger(__name__)


def connection_for(execution: Execution, step: dict):
    """The step's connection, once its publisher's right to use it is checked (again at
    every run: sharing may have changed since publishing). Without that right the step
    fails and the recipe is paused, as for a broken connection."""
    label, connection_id = step.get("connection"), step.get("connection_id")
    if not label and not connection_id:
        return None
    run = execution.run
    key = (step["app"], connection_id or label)
    if key not in execution.connections:
        if connection_id and hasattr(run, "publisher_id"):
            connection, refused = _by_id_checked(run, step["app"], connection_id)
        else:
            connection = resolve_connection(run.workspace_id, step["app"], label, connection_id)
            refused = connection and publisher_may_not_use(run.version_id, connection)
        execution.refused[key] = refused or None
        if refused:
            _pause_version(run.version_id, refused)
        execution.connections[key] = connection
    if execution.refused.get(key):
        raise IntegrationError(execution.refused[key], permanent=True)
    return execution.connections[key]


# A step's connection by id with its publisher's right to use it, one statement built once
# per app (compiled_sql, "Scale"), by the apps whose connections the app may use.
_BY_ID: dict[tuple[str, ...], CompiledModelQuery] = {}
NO_PUBLISHER = 0  # no user has id 0: the rule is false, and the caller ignores it


def _slugs(app: str) -> tuple[str, ...]:
    from integrations import registry

    # An app may run on another app's connections (the llm steps on a provider's).
    return tuple(getattr(registry.get(app), "uses_connections_of", (app,)))


def _by_id_query(slugs: tuple[str, ...]) -> CompiledModelQuery:
    if slugs not in _BY_ID:
        from hub.connections.models import Connection, usable_by_rule

        _BY_ID[slugs] = CompiledModelQuery(
            lambda workspace_id, pk, publisher_id: (
                Connection.objects.filter(workspace_id=workspace_id, integration__in=slugs, pk=pk)
                .annotate(
                    publisher_may_use=ExpressionWrapper(
                        usable_by_rule(publisher_id), output_field=BooleanField()
                    )
                )
                .order_by()
            ),
            kinds=("id", "id", "id"),
        )
    return _BY_ID[slugs]


def _by_id_checked(run: Run, app: str, connection_id: int):
    """The connection and why its publisher may not use it (None when they may), read in
    one statement with the publisher the claim returned."""
    publisher_id = run.publisher_id
    query = _by_id_query(_slugs(app))
    connection = query.first(run.workspace_id, connection_id, publisher_id or NO_PUBLISHER)
    if connection is None or publisher_id is None or connection.publisher_may_use:
        return connection, None
    return connection, publisher_may_not_use(run.version_id, connection)


def resolve_connection(
    workspace_id: int, app: str, label: str | None, connection_id: int | None = None
):
    """The step's connection: by id (a rename changes nothing), or by label for a step
    stored before steps held ids and never resolved since."""
    if not label and not connection_id:
        return None
    from hub.connections.models import Connection

    which = {"pk": connection_id} if connection_id else {"label": label}
    return Connection.objects.filter(
        workspace_id=workspace_id, integration__in=_slugs(app), **which
    ).first()


def publisher_may_not_use(version_id: int, connection) -> Message | None:
    """Why the version's publisher may no longer use the connection, or None when they may.
    A version published from the command line (no publisher) is an operator's: allowed."""
    # The version model is the recipes' (the layer above): reached through the run's relation.
    versions = Run._meta.get_field("version").related_model.objects
    publisher = versions.filter(pk=version_id).values_list("published_by_id", "published_by__email")
    publisher_id, email = publisher.first() or (None, None)
    if publisher_id is None or connection.usable_by_user(publisher_id):
        return None
    return Message(
        gettext_noop(
            "The connection “%(label)s” is no longer shared with %(email)s, who published this "
            "recipe. Share it with them again, or have someone who may use it publish the "
            "recipe again."
        ),
        label=connection.label,
        email=email,
    )


def refresh(connection) -> bool:
    try:
        connection.refresh(force=True)
    except Exception as error:
        log.info("Token refresh failed for connection %s: %s", connection.pk, error)
        return False
    return True


def mark_broken(connection, reason: str) -> None:
    try:
        connection.mark_broken(reason)
    except Exception:
        log.exception("Could not mark connection %s broken", connection.pk)


def _pause_version(version_id: int, reason: str | Message) -> None:
    # The recipes pause it (hub/recipes/signals.py); a failure there must not stop the run's
    # own record of why the step failed.
    try:
        publisher_lost_access.send(sender=Run, version_id=version_id, reason=reason)
    except Exception:
        log.exception("Could not pause the recipe of version %s", version_id)
