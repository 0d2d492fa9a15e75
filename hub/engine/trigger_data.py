"""The trigger data a run starts from. An app event that carries only ids (a ClickUp delivery
names the task) is completed here, as the run's first act, by its trigger's ``resolve`` — so
the data is the item as it is now, and the request that delivered the event called nothing.
The completed data replaces the event's on the run, so a resumed run does not fetch again."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

from django.utils import timezone

from hub.engine.leases import Execution
from hub.engine.messages import Message, gettext_noop
from hub.engine.models import Run
from hub.engine.step_attempt import backoff_seconds
from hub.engine.step_connections import connection_for, mark_broken
from integrations import registry
from integrations.base import Context, IntegrationError

log = logging.getLogger(__name__)


def _trigger(execution: Execution) -> dict:
    document = execution.run.version_document
    if isinstance(document, str | bytes | bytearray):
        document = json.loads(document)
    return (document or {}).get("trigger") or {}


def resolved(execution: Execution) -> Any:
    run = execution.run
    data = run.trigger_data
    if (
        run.source != Run.Source.APP
        or not isinstance(data, dict)
        or data.get("resolved") is not False
    ):
        return data
    trigger = _trigger(execution)
    app = trigger.get("app")
    declaration = registry.get(app).trigger(trigger.get("event"))
    if declaration.resolve is None:
        return data
    connection = None
    try:
        connection = connection_for(
            execution, {"app": app, "connection": trigger.get("connection")}
        )
        ctx = Context(
            workspace_id=run.workspace_id,
            config=trigger.get("config") or {},
            connection=connection,
            run_id=run.id,
            step_key="trigger",
            integration=registry.get(app),
            recipe_id=run.recipe_id,
            version_id=run.version_id,
        )
        complete = declaration.resolve(ctx, data)
    except IntegrationError as error:
        _failed(execution, error, connection)
    Run.objects.filter(id=run.id).update(trigger_data=complete)
    run.trigger_data = complete
    return complete


def _failed(execution: Execution, error: IntegrationError, connection) -> None:
    """A passing fault waits and tries again (the run's deadline bounds how long); anything
    else ends the run with the app's reason."""
    if error.reauth and connection is not None:
        mark_broken(connection, error.message)
    if error.retryable:
        delay = backoff_seconds(1, error.retry_after)
        execution.park(timezone.now() + timedelta(seconds=delay))
    reason = Message(
        gettext_noop("The trigger's data could not be read: %(detail)s"), detail=error.message
    )
    execution.finish(Run.Status.FAILED, reason, "trigger")
