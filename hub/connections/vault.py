"""Token refresh (single-flight), breaking, testing and disconnecting connections.

Plain functions over ``Connection``; views, Celery tasks and the engine all call these.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from hub.accounts.models import audit
from hub.connections import oauth
from hub.connections.models import Connection
from hub.connections.signals import connection_broken
from integrations.base import IntegrationError

log = logging.getLogger(__name__)


def _describe_refusal(code: str) -> str:
    if code in ("invalid_client", "invalid_client_id", "bad_client_secret"):
        return "The app no longer accepts this hub's client id or secret."
    return "The app refused to renew access (it was revoked or expired)."


def refresh_connection(conn: Connection, *, force: bool = False) -> str:
    """See ``Connection.refresh``. Returns the access token to use."""
    seen_version = conn.token_version
    broken_reason: str | None = None
    with transaction.atomic():
        row = Connection.objects.select_for_update().get(pk=conn.pk)
        if row.status != Connection.Status.ACTIVE:
            conn.adopt(row)
            raise IntegrationError(row.unusable_message(), reauth=True, permanent=True)
        if row.token_version != seen_version and row.access_token:
            # Someone refreshed while we waited for the lock: use theirs.
            conn.adopt(row)
            return row.access_token
        if not force and not row.expires_soon() and row.access_token:
            conn.adopt(row)
            return row.access_token
        if not row.can_refresh:
            if not force:
                conn.adopt(row)
                return row.access_token
            broken_reason = "The app no longer accepts this connection's access."
        else:
            try:
                tokens = oauth.refresh(row.app, row.workspace, row.refresh_token)
            except oauth.NotConfigured:
                broken_reason = "The app's client id and secret are missing."
            except oauth.TokenError as exc:
                if not exc.grant_dead:
                    log.warning("Refreshing connection %s failed for now (%s)", row.pk, exc.code)
                    if not force and row.expires_at and row.expires_at > timezone.now():
                        # Still valid for a few minutes: use it and try again next time.
                        conn.adopt(row)
                        return row.access_token
                    raise IntegrationError(
                        f"{row.app.name} could not renew access just now; will try again."
                    ) from None
                log.warning("Connection %s: refresh refused (%s)", row.pk, exc.code)
                broken_reason = _describe_refusal(exc.code)
            else:
                row.set_tokens(
                    tokens.access_token,
                    tokens.refresh_token,
                    tokens.expires_in,
                    list(tokens.scopes) if tokens.scopes else None,
                )
                row.save_tokens()
                conn.adopt(row)
                log.info("Connection %s refreshed (version %s)", row.pk, row.token_version)
                return row.access_token
        # Broken: record it while we still hold the lock, so nobody spends the token again.
        changed = _set_broken(row, broken_reason)
    conn.adopt(row)
    if changed:
        _notify_broken(row, broken_reason, actor=None, action="connection.refresh_failed")
    raise IntegrationError(row.unusable_message(), reauth=True, permanent=True)


def _set_broken(conn: Connection, reason: str) -> bool:
    changed = Connection.objects.filter(pk=conn.pk, status=Connection.Status.ACTIVE).update(
        status=Connection.Status.NEEDS_RECONNECT, last_error=reason, updated_at=timezone.now()
    )
    conn.status = Connection.Status.NEEDS_RECONNECT
    conn.last_error = reason
    return bool(changed)


def mark_broken(conn: Connection, reason: str, *, actor=None) -> bool:
    with transaction.atomic():
        changed = _set_broken(conn, reason)
    if changed:
        _notify_broken(conn, reason, actor=actor, action="connection.broken")
    return changed


def _notify_broken(conn: Connection, reason: str, *, actor, action: str) -> None:
    audit(
        conn.workspace,
        actor,
        action,
        conn.label,
        connection_id=conn.pk,
        app=conn.integration,
        reason=reason,
    )
    admins = [u.email for u in conn.workspace.admins() if u.email]
    if admins:
        link = settings.HUB_BASE_URL + reverse("connection_detail", args=[conn.pk])
        app_name = conn.app.name
        send_mail(
            f"{app_name} connection “{conn.label}” needs reconnecting",
            (
                f"The {app_name} connection “{conn.label}” in {conn.workspace.name} "
                f"stopped working.\n\nWhy: {reason}\n\n"
                "Recipes that use it are paused until it is reconnected. "
                f"Open the connection and press Reconnect:\n{link}\n"
            ),
            None,
            admins,
            fail_silently=True,
        )
    connection_broken.send(sender=Connection, connection=conn)


def check_connection(conn: Connection, actor=None) -> tuple[bool, str]:
    """Call the app's identity endpoint; record and return (ok, what it said)."""
    ok, message = False, ""
    try:
        try:
            message = conn.app.check(conn)
        except IntegrationError as exc:
            if not exc.reauth or conn.status != Connection.Status.ACTIVE or not conn.can_refresh:
                raise
            conn.refresh(force=True)
            message = conn.app.check(conn)
        ok = True
    except IntegrationError as exc:
        message = exc.message
        if exc.reauth and conn.status == Connection.Status.ACTIVE:
            mark_broken(conn, "The app no longer accepts this connection's access.", actor=actor)
    now = timezone.now()
    Connection.objects.filter(pk=conn.pk).update(
        last_checked_at=now, last_check_ok=ok, **({} if ok else {"last_error": message})
    )
    conn.last_checked_at, conn.last_check_ok = now, ok
    if not ok:
        conn.last_error = message
    return ok, message


def disconnect(conn: Connection, actor) -> bool:
    """Revoke at the app where it can, forget the secrets, keep the row and an audit record.
    Returns whether the app confirmed the revocation."""
    revoked = False
    if conn.access_token or conn.refresh_token:
        try:
            conn.app.revoke(conn)
            revoked = conn.app.oauth is not None and conn.app.oauth.revoke_url is not None
        except IntegrationError as exc:
            log.warning("Revoking connection %s at the app failed: %s", conn.pk, exc.message)
    with transaction.atomic():
        row = Connection.objects.select_for_update().get(pk=conn.pk)
        row.forget_secrets()
        row.status = Connection.Status.DISCONNECTED
        row.token_version += 1
        row.last_error = ""
        row.save()
    conn.adopt(row)
    audit(
        conn.workspace,
        actor,
        "connection.disconnected",
        conn.label,
        connection_id=conn.pk,
        app=conn.integration,
        revoked_at_app=revoked,
    )
    return revoked


def refresh_due(within: timedelta = timedelta(minutes=15)) -> list[int]:
    """Ids of active connections whose tokens expire soon and can be refreshed."""
    soon = timezone.now() + within
    return list(
        Connection.objects.filter(
            status=Connection.Status.ACTIVE,
            kind=Connection.Kind.OAUTH,
            expires_at__isnull=False,
            expires_at__lte=soon,
        ).values_list("pk", flat=True)
    )


def refresh_one(connection_id: int, within: timedelta = timedelta(minutes=15)) -> str:
    """Refresh one connection if it still expires soon. Returns what happened, for logs."""
    conn = Connection.objects.filter(pk=connection_id).first()
    if conn is None or conn.status != Connection.Status.ACTIVE:
        return "skipped"
    if not conn.expires_soon(within) or not conn.can_refresh:
        return "not due"
    try:
        conn.refresh(force=True)
    except IntegrationError as exc:
        return "broken" if exc.reauth else "failed"
    return "refreshed"
