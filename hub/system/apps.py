from django.apps import AppConfig


class SystemConfig(AppConfig):
    name = "hub.system"
    label = "system"
    verbose_name = "System status"

    def ready(self):
        from hub.system import signals  # noqa: F401  (connects the worker-ready heartbeat)
