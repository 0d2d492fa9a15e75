from django.apps import AppConfig


class EngineConfig(AppConfig):
    name = "hub.engine"
    label = "engine"
    verbose_name = "Runs"

    def ready(self) -> None:
        # Instant triggers: webhooks registered at apps follow the recipe's life, and the
        # periodic check of their health is a task Celery finds by name.
        from hub.engine import subscription_tasks, subscriptions

        subscriptions.connect()
        del subscription_tasks
