from django.apps import AppConfig


class EngineConfig(AppConfig):
    name = "hub.engine"
    label = "engine"
    verbose_name = "Runs"
