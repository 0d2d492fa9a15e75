"""Webhooks the hub registered at an app for a recipe's instant trigger (a ClickUp webhook per
recipe): where deliveries come in, and the secret they are signed with (``hub.connections.models``
re-exports the model)."""

from __future__ import annotations

import secrets

from django.db import models

from hub.connections.fields import EncryptedTextField


def new_token() -> str:
    return secrets.token_urlsafe(24)


class AppSubscription(models.Model):
    """One registration at the app. ``token`` names the delivery address
    (``/apps/<app>/webhooks/<token>/``); deliveries to an unknown token are a 404. ``scope``
    is the trigger's settings the registration was made for: a republish with the same
    settings keeps the registration, other settings replace it."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        # The app reported the webhook failing or suspended, or registering failed: the
        # periodic check registers it again.
        UNHEALTHY = "unhealthy", "Unhealthy"

    # The recipes are a layer above: named by string, reached through this relation only.
    recipe = models.ForeignKey(
        "recipes.Recipe", on_delete=models.CASCADE, related_name="app_subscriptions"
    )
    connection = models.ForeignKey(
        "connections.Connection", on_delete=models.CASCADE, related_name="subscriptions"
    )
    integration = models.CharField(max_length=40)
    token = models.CharField(max_length=64, unique=True, default=new_token)
    external_id = models.CharField(max_length=100, blank=True)
    secret = EncryptedTextField()
    scope = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["recipe"], name="one_app_subscription_per_recipe")
        ]

    def __str__(self) -> str:
        return (
            f"{self.integration} webhook {self.external_id or '(unregistered)'} of {self.recipe_id}"
        )
