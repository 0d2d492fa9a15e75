"""Celery tasks: thin wrappers that take ids and call the engine's plain functions.

Nothing in the engine imports this module: runs are sent by name (hub/engine/dispatch.py).
"""

from celery import shared_task

from hub.engine.dispatch import EXECUTE_RUN
from hub.engine.polling import POLL_TRIGGER


@shared_task(name=EXECUTE_RUN, ignore_result=True, acks_late=True)
def execute_run(run_id: int, due: str | None = None) -> str:
    from hub.engine.executor import execute

    return execute(run_id, due=due)


@shared_task(name="hub.engine.tasks.tick", ignore_result=True)
def tick() -> int:
    from hub.engine.scheduler import tick_until_done

    return tick_until_done()


@shared_task(name=POLL_TRIGGER, ignore_result=True, acks_late=True)
def poll_trigger(state_id: int) -> str:
    from hub.engine.polling import poll_trigger as poll

    return poll(state_id)


@shared_task(name="hub.engine.tasks.sweep", ignore_result=True)
def sweep() -> dict:
    from hub.engine.sweeper import sweep as run_sweep

    return run_sweep()


@shared_task(name="hub.engine.tasks.prune", ignore_result=True)
def prune() -> int:
    from hub.engine.sweeper import prune as run_prune

    return run_prune()
