"""OAuth client credentials an admin entered for an app (``hub.connections.models`` re-exports
the model, where Django and the rest of the hub find it)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from hub.accounts.models import Workspace
from hub.connections.fields import EncryptedTextField


class OAuthApp(models.Model):
    """OAuth client credentials entered by an admin. ``workspace`` empty = the whole
    deployment. Credentials from the environment (``<APP>_CLIENT_ID``) win over these."""

    workspace = models.ForeignKey(
        Workspace, null=True, blank=True, on_delete=models.CASCADE, related_name="oauth_apps"
    )
    integration = models.CharField(max_length=40)
    client_id = models.CharField(max_length=255)
    client_secret = EncryptedTextField()
    # Slack only: the signing secret its Events API requests are verified with, and the
    # app-level token (xapp-…) Socket Mode connects with. Both optional; encrypted like the
    # client secret.
    signing_secret = EncryptedTextField(blank=True)
    app_token = EncryptedTextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "OAuth app"
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "integration"], name="one_oauth_app_per_workspace"
            ),
            models.UniqueConstraint(
                fields=["integration"],
                condition=Q(workspace=None),
                name="one_deployment_oauth_app",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.integration} OAuth app ({self.workspace or 'all workspaces'})"
