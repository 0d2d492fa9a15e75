"""Celery tasks of the recipes: thin wrappers that take ids and call plain functions."""

from celery import shared_task

from hub.recipes.evaluation_runs import RUN_EVALUATION


@shared_task(name=RUN_EVALUATION, ignore_result=True, acks_late=True)
def run_evaluation(eval_run_id: int) -> str:
    from hub.recipes.evaluation_runs import perform

    return perform(eval_run_id)
