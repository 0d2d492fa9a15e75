"""App connections and the token vault.

A ``Connection`` is one external account (a Slack team, a Notion workspace, a mailbox, a
ClickUp user) connected to a workspace. Its secrets are encrypted at rest; ``fresh_token()``
hands out a valid access token, refreshing it first when it is about to expire, with at most
one refresh in flight per connection.

API-key connections (LLM providers) use the same model with ``kind="api_key"``: the key is
kept in ``access_token`` and never expires.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hub.accounts.models import Membership, Workspace
from hub.connections.fields import EncryptedTextField

# OAuthApp lives in its own module so the OAuth flow can use it without the Connection model
# (whose token methods use the vault, which uses the OAuth flow).
from hub.connections.oauth_apps import OAuthApp
from hub.connections.subscriptions import AppSubscription
from integrations.base import IntegrationError

__all__ = ["AppSubscription", "Connection", "ConnectionQuerySet", "OAuthApp"]

log = logging.getLogger(__name__)

# Refresh this long before the app says the token expires, so a call started just before
# expiry does not land just after it.
REFRESH_AHEAD = timedelta(minutes=5)


def usable_by_rule(user) -> Q:
    """The condition ``usable_by`` filters on, for connections of any workspace: ``user``
    (a user, an id, or an expression) is an active member of the connection's workspace, and
    an admin there or the connection is shared with everyone or with them by name. One
    condition, so a statement built once can ask it (the executor's, at every run)."""
    members = Membership.objects.filter(
        workspace=OuterRef("workspace_id"), user=user, user__is_active=True
    )
    named = Connection.allowed_users.through.objects.filter(connection=OuterRef("pk"), user=user)
    admin = Exists(members.filter(role=Membership.Role.ADMIN))
    return admin | (Exists(members) & (Q(shared_with_all=True) | Exists(named)))


class ConnectionQuerySet(models.QuerySet):
    def for_workspace(self, workspace) -> ConnectionQuerySet:
        return self.filter(workspace=workspace)

    def usable_by(self, user, workspace, membership=None) -> ConnectionQuerySet:
        """Connections of ``workspace`` that ``user`` may use in recipes: admins may use all;
        members those shared with everyone or with them by name; nobody once their account is
        deactivated. Any status: callers check ``status`` (a broken connection is still
        *theirs*, it just needs reconnecting). ``user`` may be a user or a user id.

        This is the one rule for "may this person use this connection": the connection pages,
        publishing a recipe, the executor and the run pages all ask it.

        ``membership``: the signed-in member's own, already read for this request; an admin's
        spares the condition (admins may use every connection of their workspace)."""
        qs = self.for_workspace(workspace)
        if (
            membership is not None
            and membership.is_admin
            and membership.user_id == getattr(user, "pk", user)
            and membership.workspace_id == getattr(workspace, "pk", workspace)
            and getattr(user, "is_active", False)
        ):
            return qs
        return qs.filter(usable_by_rule(user))

    def active(self) -> ConnectionQuerySet:
        return self.filter(status=Connection.Status.ACTIVE)


class Connection(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Working")
        NEEDS_RECONNECT = "needs_reconnect", _("Needs reconnecting")
        DISCONNECTED = "disconnected", _("Disconnected")

    class Kind(models.TextChoices):
        OAUTH = "oauth", _("OAuth")
        API_KEY = "api_key", _("API key")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="connections")
    # A registry slug ("slack"); no choices= so adding an integration needs no migration.
    integration = models.CharField(max_length=40, db_index=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.OAUTH)
    label = models.CharField(max_length=100)
    external_id = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    scopes = models.JSONField(default=list, blank=True)
    # Public facts about the account (team domain, authorised ClickUp Workspaces): no secrets.
    details = models.JSONField(default=dict, blank=True)

    access_token = EncryptedTextField()
    refresh_token = EncryptedTextField()
    expires_at = models.DateTimeField(null=True, blank=True)
    # Bumped on every refresh: a caller holding an older version knows someone refreshed.
    token_version = models.PositiveIntegerField(default=0)
    last_refreshed_at = models.DateTimeField(null=True, blank=True)
    # A refresh in flight (single-flight without holding a lock over the HTTP call): who
    # claimed it and until when the claim holds (see hub/connections/vault.py).
    refresh_claim = models.CharField(max_length=64, blank=True, editable=False)
    refresh_claimed_until = models.DateTimeField(null=True, blank=True, editable=False)

    last_error = models.TextField(blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_check_ok = models.BooleanField(null=True, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    shared_with_all = models.BooleanField(default=True)
    allowed_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="usable_connections"
    )

    objects = ConnectionQuerySet.as_manager()

    class Meta:
        ordering = ["integration", "label"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "label"], name="unique_connection_label")
        ]
        indexes = [models.Index(fields=["status", "expires_at"], name="conn_refresh_due")]

    def __str__(self) -> str:
        return f"{self.label} ({self.integration})"

    def __repr__(self) -> str:
        return f"<Connection {self.pk} {self.integration} {self.label!r} {self.status}>"

    # -- what the app is

    @property
    def app(self):
        from integrations import registry

        return registry.get(self.integration)

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def can_refresh(self) -> bool:
        spec = self.app.oauth
        return bool(self.kind == self.Kind.OAUTH and spec and spec.refreshes and self.refresh_token)

    def expires_soon(self, within: timedelta = REFRESH_AHEAD) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now() + within

    def usable_by_user(self, user) -> bool:
        return Connection.objects.filter(pk=self.pk).filter(usable_by_rule(user)).exists()

    # -- tokens

    def fresh_token(self) -> str:
        """A valid access token, refreshed first when it expires within a few minutes."""
        if self.status != self.Status.ACTIVE:
            raise IntegrationError(self.unusable_message(), reauth=True, permanent=True)
        if self.kind == self.Kind.API_KEY:
            return self.access_token
        if self.expires_soon() and self.can_refresh:
            return self.refresh()
        if not self.access_token:
            raise IntegrationError(self.unusable_message(), reauth=True, permanent=True)
        return self.access_token

    def refresh(self, force: bool = False) -> str:
        """Refresh the access token; single-flight per connection.

        One caller claims the refresh on the row (a compare-and-set UPDATE on
        ``token_version``), calls the app's token endpoint outside any transaction — so no
        lock, and on SQLite not the database's write lock, is held while the app answers —
        and stores the result in a short transaction. Others wait for ``token_version`` to
        move: when another caller refreshed meanwhile, its token is used and the refresh
        token — which may rotate — is not spent again.

        ``force`` refreshes even before expiry (after the app refused the token). An app that
        cannot refresh, or a refusal of the refresh token, marks the connection broken.
        """
        from hub.connections import vault

        return vault.refresh_connection(self, force=force)

    def client_credentials(self):
        """The OAuth client id and secret this connection was granted through (an app's
        revoke endpoint may ask for them), as the integration contract's Connection offers."""
        from hub.connections.oauth import client_credentials

        return client_credentials(self.app, self.workspace)

    def unusable_message(self) -> str:
        if self.status == self.Status.DISCONNECTED:
            return f"The connection “{self.label}” was disconnected. An admin can reconnect it."
        reason = f" ({self.last_error})" if self.last_error else ""
        return f"The connection “{self.label}” needs reconnecting{reason}."

    def mark_broken(self, reason: str, actor=None) -> bool:
        """Needs reconnecting: record why, tell the workspace admins (email, banner) and the
        engine (signal). Returns False when it was already broken, so callers racing here
        notify once."""
        from hub.connections import vault

        return vault.mark_broken(self, reason, actor=actor)

    def adopt(self, other: Connection) -> None:
        """Take the token fields of a fresher copy of this row."""
        for name in (
            "access_token",
            "refresh_token",
            "expires_at",
            "token_version",
            "status",
            "last_error",
            "scopes",
            "last_refreshed_at",
        ):
            setattr(self, name, getattr(other, name))

    def set_tokens(
        self,
        access_token: str,
        refresh_token: str | None,
        expires_in: float | None,
        scopes: list[str] | None = None,
    ) -> None:
        self.access_token = access_token
        if refresh_token:
            self.refresh_token = refresh_token
        self.expires_at = timezone.now() + timedelta(seconds=expires_in) if expires_in else None
        if scopes is not None:
            self.scopes = scopes
        self.token_version += 1
        self.last_refreshed_at = timezone.now()

    def forget_secrets(self) -> None:
        self.access_token = ""
        self.refresh_token = ""
        self.expires_at = None

    @transaction.atomic
    def save_tokens(self) -> None:
        self.save(
            update_fields=[
                "access_token",
                "refresh_token",
                "expires_at",
                "token_version",
                "last_refreshed_at",
                "scopes",
                "updated_at",
            ]
        )
