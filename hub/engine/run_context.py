"""What a step's Context says about the run beyond its config: the recipe's time zone and
who the run acts for. Returned by the claim beside the run (no query of its own; one query
through the run's relations for a run loaded otherwise) and kept on the execution."""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from hub.engine.models import Run


@dataclass(frozen=True)
class RunFacts:
    timezone: str
    recipe_id: int | None
    version_id: int | None
    # The recipe's owner: who the run acts for (LLM usage, "assigned to me").
    member_id: int | None
    workspace_timezone: str = ""


@dataclass(frozen=True)
class RunningStep:
    run_id: int
    key: str
    step: dict  # the step as the version holds it: its settings before mapping
    facts: RunFacts


# The step attempt running in this thread: the hub's records of what a step did (an AI
# call's prompt version and month) read the step and the run's facts from here instead of
# asking the database again.
_running: ContextVar[RunningStep | None] = ContextVar("running_step", default=None)


@contextmanager
def running_step(run_id: int, key: str, step: dict, facts: RunFacts):
    token = _running.set(RunningStep(run_id, key, step, facts))
    try:
        yield
    finally:
        _running.reset(token)


def current_step(run_id: int | None, key: str | None) -> RunningStep | None:
    """The step attempt of this thread, if it is the given run's step."""
    found = _running.get()
    if found is None or found.run_id != run_id or found.key != key:
        return None
    return found


def run_facts(execution) -> RunFacts:
    cached = getattr(execution, "facts", None)
    if cached is not None:
        return cached
    run = execution.run
    if hasattr(run, "recipe_owner_id"):
        # The claim returned these beside the run (leases.claim): no query.
        row = {
            "version__timezone": run.version_timezone,
            "workspace__timezone": run.workspace_timezone,
            "recipe__owner_id": run.recipe_owner_id,
        }
    else:
        row = _facts_row(run)
    facts = RunFacts(
        # The version's own zone (the recipe file's "timezone"), else its workspace's now.
        timezone=row.get("version__timezone") or row.get("workspace__timezone") or "UTC",
        recipe_id=run.recipe_id,
        version_id=run.version_id,
        member_id=row.get("recipe__owner_id"),
        workspace_timezone=row.get("workspace__timezone") or "",
    )
    execution.facts = facts
    return facts


def _facts_row(run) -> dict:
    return (
        Run.objects.filter(pk=run.id)
        .values("version__timezone", "workspace__timezone", "recipe__owner_id")
        .first()
        or {}
    )


def with_recipe_zone(action, config: dict, zone: str) -> dict:
    """A step whose action has a ``timezone`` field left empty reads its dates in the
    recipe's zone: the field is filled in for the call (what the member typed, recorded as
    the step's input, stays as it was)."""
    if zone and action.field("timezone") is not None and not config.get("timezone"):
        return {**config, "timezone": zone}
    return config
