"""Walking a run's steps: in order from the first without a finished attempt, every step after
a loop once per item, and the steps of the paths not taken recorded as skipped
(docs/engine.md, "Loop and paths")."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from hub.engine.leases import Execution
from hub.engine.models import Run
from hub.engine.step_attempt import render_within, run_slot
from hub.engine.step_record import Slot
from hub.engine.trigger_data import resolved
from hub.mapping import MappingError
from integrations.builtin.structure import loop_items


def walk(execution: Execution) -> None:
    """Run the steps as far as they go now; ends by finishing, parking or stopping the run
    (every way out raises leases.Stop)."""
    run = execution.run
    steps = execution.steps
    data: dict[str, Any] = {
        "trigger": resolved(execution),
        "steps": {},
        "run": {"id": run.id, "recipe": _recipe_name(run)},
    }
    outputs: dict[str, Any] = data["steps"]
    skipped: set[str] = set()
    loop_at = next(
        (i for i, s in enumerate(steps) if (s["app"], s["action"]) == ("builtin", "loop")),
        None,
    )
    head = steps if loop_at is None else steps[: loop_at + 1]
    for position, step in enumerate(head):
        last = loop_at is None and position == len(head) - 1
        slot = Slot(step["key"], position, None)
        output, branch = run_slot(execution, slot, step, data, skipped, last=last)
        outputs[step["key"]] = output
        _note_branch(step, output, branch, skipped)
    if loop_at is not None:
        loop_step = steps[loop_at]
        key = loop_step["key"]
        try:
            config = render_within(loop_step, data, key, settings.ENGINE_STEP_TIMEOUT_SECONDS)
        except MappingError as error:
            execution.finish(Run.Status.FAILED, f"Step “{key}”: {error}", key)
        items, _ = loop_items(config, settings.ENGINE_LOOP_MAX_ITEMS)
        before = dict(outputs)
        tail = list(enumerate(steps))[loop_at + 1 :]
        for item_index, item in enumerate(items):
            data["loop"] = {"item": item, "index": item_index, "count": len(items)}
            data["steps"] = outputs = dict(before)
            skipped_here = set(skipped)
            for position, step in tail:
                slot = Slot(step["key"], position, item_index)
                output, branch = run_slot(execution, slot, step, data, skipped_here)
                outputs[step["key"]] = output
                _note_branch(step, output, branch, skipped_here)
    execution.finish(Run.Status.SUCCEEDED)


def _note_branch(step: dict, output: Any, branch: dict | None, skipped: set[str]) -> None:
    """After a paths step: the steps of every branch not taken are to be skipped."""
    if (step["app"], step["action"]) != ("builtin", "paths"):
        return
    taken = (output or {}).get("branch")
    for candidate in (step.get("config") or {}).get("branches") or []:
        if candidate.get("name") != taken:
            skipped.update(candidate.get("steps") or [])


def _recipe_name(run: Run) -> str:
    name = getattr(run, "recipe_name", None)
    return name if name is not None else run.recipe.name
