"""The periodic task of instant triggers (kept apart from ``tasks.py``; imported by the
engine's app config so workers know it by name)."""

from celery import shared_task


@shared_task(name="hub.engine.check_subscriptions", ignore_result=True)
def check_subscriptions() -> int:
    from hub.engine.subscriptions import check_all

    return check_all()
