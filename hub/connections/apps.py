from django.apps import AppConfig


class ConnectionsConfig(AppConfig):
    name = "hub.connections"
    label = "connections"
    verbose_name = "App connections"
