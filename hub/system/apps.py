from django.apps import AppConfig


class SystemConfig(AppConfig):
    name = "hub.system"
    label = "system"
    verbose_name = "System status"

    def ready(self):
        # The Celery app, current from here on, so the shared tasks bind to it.
        import hub.celery  # noqa: F401
        from hub.system import signals  # noqa: F401  (connects the worker-ready heartbeat)
