"""Token refresh (single-flight), breaking, testing and disconnecting connections.

Plain functions over a ``Connection``; views, Celery tasks and the engine all call these,
mostly through the model's own methods (``fresh_token``, ``refresh``, ``mark_broken``). They
work on the instance they are given (``type(conn)`` for queries) and import no model, so the
model can hand its token work to them without an import cycle.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from hub.accounts.models import audit
from hub.connections import oauth
from hub.connections.signals import connection_broken
from integrations.base import IntegrationError

log = logging.getLogger(__name__)


def _describe_refusal(code: str) -> str:
    if code in ("invalid_client", "invalid_client_id", "bad_client_secret"):
        return "The app no longer accepts this hub's client id or secret."
    return "The app refused to renew access (it was revoked or expired)."


# A claim holds longer than the token request may take (integrations.http.DEFAULT_TIMEOUT:
# 5 s to connect, 30 s per read), so a live refresh is not taken over; a dead caller's claim
# lapses after it.
CLAIM_SECONDS = 60
# How long a caller waits for another caller's refresh before giving up for now (retryable).
WAIT_SECONDS = 45
POLL_SECONDS = 0.05


def refresh_connection(conn, *, force: bool = False) -> str:
    """See ``Connection.refresh``. Returns the access token to use.

    No transaction is open while the app's token endpoint answers: the refresh is claimed by
    a compare-and-set UPDATE (a statement of its own), the HTTP call made, and the result
    stored in a short transaction. A caller finding the refresh claimed waits for the new
    ``token_version``."""
    seen_version = conn.token_version
    give_up = time.monotonic() + WAIT_SECONDS
    while True:
        row = type(conn).objects.get(pk=conn.pk)
        if row.status != row.Status.ACTIVE:
            conn.adopt(row)
            raise IntegrationError(row.unusable_message(), reauth=True, permanent=True)
        if row.token_version != seen_version and row.access_token:
            # Someone refreshed since this copy was read: use theirs.
            conn.adopt(row)
            return row.access_token
        if not force and not row.expires_soon() and row.access_token:
            conn.adopt(row)
            return row.access_token
        if not row.can_refresh:
            if not force:
                conn.adopt(row)
                return row.access_token
            return _broken(conn, row, "The app no longer accepts this connection's access.")
        claim = _claim(row)
        if claim:
            break
        if time.monotonic() > give_up:
            raise IntegrationError(
                f"{row.app.name} could not renew access just now; will try again."
            )
        time.sleep(POLL_SECONDS)
    try:
        try:
            tokens = oauth.refresh(row.app, row.workspace, row.refresh_token)
        except oauth.NotConfigured:
            return _broken(conn, row, "The app's client id and secret are missing.")
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
            # Broken before the claim is let go, so nobody spends the token again.
            return _broken(conn, row, _describe_refusal(exc.code))
        return _store(conn, row, tokens)
    finally:
        type(row).objects.filter(pk=row.pk, refresh_claim=claim).update(
            refresh_claim="", refresh_claimed_until=None
        )


def _claim(row) -> str:
    """Claim the refresh of ``row`` unless someone refreshed since it was read or holds a
    live claim. Returns the claim's id, or "" when not claimed."""
    claim = uuid.uuid4().hex
    now = timezone.now()
    claimed = (
        type(row)
        .objects.filter(pk=row.pk, status=row.Status.ACTIVE, token_version=row.token_version)
        .filter(Q(refresh_claimed_until__isnull=True) | Q(refresh_claimed_until__lt=now))
        .update(refresh_claim=claim, refresh_claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
    )
    return claim if claimed else ""


def _store(conn, row, tokens) -> str:
    """Save what the token endpoint issued, in a short transaction of its own."""
    with transaction.atomic():
        fresh = type(row).objects.select_for_update().get(pk=row.pk)
        if fresh.status != fresh.Status.ACTIVE:
            # Disconnected or broken while the app answered: the new token is not put back.
            conn.adopt(fresh)
            raise IntegrationError(fresh.unusable_message(), reauth=True, permanent=True)
        fresh.set_tokens(
            tokens.access_token,
            tokens.refresh_token,
            tokens.expires_in,
            list(tokens.scopes) if tokens.scopes else None,
        )
        fresh.save_tokens()
    conn.adopt(fresh)
    log.info("Connection %s refreshed (version %s)", fresh.pk, fresh.token_version)
    return fresh.access_token


def _broken(conn, row, reason: str):
    with transaction.atomic():
        changed = _set_broken(row, reason)
    conn.adopt(row)
    if changed:
        _notify_broken(row, reason, actor=None, action="connection.refresh_failed")
    raise IntegrationError(row.unusable_message(), reauth=True, permanent=True)


def _set_broken(conn, reason: str) -> bool:
    changed = (
        type(conn)
        .objects.filter(pk=conn.pk, status=conn.Status.ACTIVE)
        .update(status=conn.Status.NEEDS_RECONNECT, last_error=reason, updated_at=timezone.now())
    )
    conn.status = conn.Status.NEEDS_RECONNECT
    conn.last_error = reason
    return bool(changed)


def mark_broken(conn, reason: str, *, actor=None) -> bool:
    with transaction.atomic():
        changed = _set_broken(conn, reason)
    if changed:
        _notify_broken(conn, reason, actor=actor, action="connection.broken")
    return changed


def _notify_broken(conn, reason: str, *, actor, action: str) -> None:
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
    connection_broken.send(sender=type(conn), connection=conn)


def check_connection(conn, actor=None) -> tuple[bool, str]:
    """Call the app's identity endpoint; record and return (ok, what it said)."""
    ok, message = False, ""
    try:
        try:
            message = conn.app.check(conn)
        except IntegrationError as exc:
            if not exc.reauth or conn.status != conn.Status.ACTIVE or not conn.can_refresh:
                raise
            conn.refresh(force=True)
            message = conn.app.check(conn)
        ok = True
    except IntegrationError as exc:
        message = exc.message
        if exc.reauth and conn.status == conn.Status.ACTIVE:
            mark_broken(conn, "The app no longer accepts this connection's access.", actor=actor)
    now = timezone.now()
    type(conn).objects.filter(pk=conn.pk).update(
        last_checked_at=now, last_check_ok=ok, **({} if ok else {"last_error": message})
    )
    conn.last_checked_at, conn.last_check_ok = now, ok
    if not ok:
        conn.last_error = message
    return ok, message


def disconnect(conn, actor) -> bool:
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
        row = type(conn).objects.select_for_update().get(pk=conn.pk)
        row.forget_secrets()
        row.status = row.Status.DISCONNECTED
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
