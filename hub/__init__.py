"""The hub's Django project.

The Celery app (``hub.celery``) is loaded by hub.system's ``AppConfig.ready``, so every
process that sets Django up has it (web, workers, scheduler, manage.py), and ``celery -A
hub`` finds it as ``hub.celery:app``; importing the package itself stays light: gunicorn's
master imports ``hub.system.logs`` for its logger class and needs neither Celery nor Django.
"""


def __getattr__(name: str):
    if name == "celery_app":
        from hub.celery import app

        return app
    raise AttributeError(f"module 'hub' has no attribute {name!r}")
