"""Recipes as data: a recipe has a draft document and immutable published versions.

The document is the ``toolstack.recipe/1`` JSON (see ``hub.recipes.format``). Runs point at
the version they ran, so editing or republishing never changes a run already in flight.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hub.accounts.models import Workspace


def new_public_id() -> str:
    return secrets.token_urlsafe(12)


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(24)


class Recipe(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="recipes")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT)
    # Why a recipe is paused when the hub paused it (a connection needs reconnecting).
    paused_reason = models.CharField(max_length=300, blank=True)
    # The reason as a hub.engine.messages.Message, shown in the reader's language.
    paused_message = models.JSONField(null=True, blank=True)
    # The working copy people edit; publishing freezes it into a RecipeVersion.
    draft = models.JSONField(default=dict)
    current_version = models.ForeignKey(
        "RecipeVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Webhook address: /hooks/<public_id>/<webhook_secret>.
    public_id = models.CharField(max_length=40, unique=True, default=new_public_id)
    webhook_secret = models.CharField(max_length=64, default=new_webhook_secret)
    # When a member pressed Test trigger on the draft's webhook: the next call to the address
    # within the test's window becomes the trigger's sample, published or not
    # (hub/recipes/webhook_test.py). Empty when nobody is waiting for one.
    webhook_test_from = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="recipe_name_per_workspace")
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def trigger_app(self) -> str:
        version = self.current_version
        document = version.document if version else self.draft
        return (document.get("trigger") or {}).get("app", "manual")


class RecipeVersion(models.Model):
    """A published, immutable snapshot of a recipe's trigger and steps."""

    recipe = models.ForeignKey(Recipe, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    document = models.JSONField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(auto_now_add=True)
    # The recipe file's "timezone" (IANA name); empty: the workspace's, whatever it is now.
    timezone = models.CharField(max_length=64, blank=True)
    # Every connection the steps name (each step holds its connection's id): who may see the
    # version's runs, and which recipes a broken connection pauses, are queries on this.
    connections = models.ManyToManyField(
        "connections.Connection", blank=True, related_name="recipe_versions"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["recipe", "number"], name="one_version_number")
        ]
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"{self.recipe} v{self.number}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("A published recipe version never changes; publish a new one.")
        super().save(*args, **kwargs)

    @property
    def steps(self) -> list[dict]:
        return self.document.get("steps", [])

    @property
    def trigger(self) -> dict:
        return self.document.get("trigger", {})

    @property
    def zone_name(self) -> str:
        """The time zone the version's dates are read in."""
        return self.timezone or self.recipe.workspace.timezone


class StepSample(models.Model):
    """What the editor learnt about one step of a recipe's draft, by its stable key: the
    output of its last test (the sample data the Insert data picker offers to later steps)
    and the labels of the values chosen in its live pickers (a channel's name for its id).
    ``step_key`` "trigger" is the trigger. Kept beside the draft, not in it, so publishing
    never freezes test data into a version."""

    recipe = models.ForeignKey(Recipe, on_delete=models.CASCADE, related_name="samples")
    step_key = models.CharField(max_length=60)
    output = models.JSONField(null=True, blank=True)
    choice_labels = models.JSONField(default=dict, blank=True)
    tested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["recipe", "step_key"], name="one_sample_per_step")
        ]

    def __str__(self) -> str:
        return f"{self.recipe_id}:{self.step_key}"
