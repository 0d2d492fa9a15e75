"""The Celery application. Settings come from Django settings under the CELERY_ namespace."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
# Celery's Django fixup runs Django's system checks when a worker starts; the URL checks
# import every view module (~8 MB per worker process it never uses). The checks run where
# they belong: `manage.py check` in CI and before a deploy. CELERY_SKIP_CHECKS= turns them on.
os.environ.setdefault("CELERY_SKIP_CHECKS", "1")

app = Celery("hub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(**kwargs) -> None:
    """Treat a task like a request: drop a database connection that is older than
    CONN_MAX_AGE, broken, or left inside a transaction; keep a healthy one. Celery's own
    Django fixup closes the connection around every task (a new PostgreSQL backend per
    task) unless CELERY_DB_REUSE_MAX is set, which settings.py does."""
    task = kwargs.get("task")
    if task is not None and getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
