"""API-key connections (the AI providers): added once by an admin (on the page or with
``manage.py connections add-key``), the key encrypted in the vault like a token and never
shown again. Testing one lists the models the key can use; admins choose which of them
members may pick (``details["allowed"]``; empty means all)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hub.accounts.models import audit
from hub.connections.models import Connection
from integrations import registry
from integrations.base import IntegrationError


class KeyProblem(ValueError):
    """A problem with what the admin entered, worded for them."""


def providers() -> list:
    return [registry.get(slug) for slug in registry.connected_by("api_key")]


def provider(slug: str):
    try:
        app = registry.get(slug)
    except IntegrationError:
        app = None
    if app is None or app.connects != "api_key":
        names = ", ".join(p.slug for p in providers())
        raise KeyProblem(
            _("“%(app)s” is not an app connected with an API key (%(names)s).")
            % {
                "app": slug,
                "names": names,
            }
        )
    return app


def clean_base_url(value: str) -> str:
    value = (value or "").strip().rstrip("/")
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise KeyProblem(
            _(
                "The base URL must start with http:// or https://, such as http://127.0.0.1:11434/v1."
            )
        )
    return value


def list_models(conn: Connection) -> list[dict]:
    """Ask the provider which models the key can use, and keep the list on the connection."""
    models = conn.app.list_models(conn)
    conn.details = {**(conn.details or {}), "available": models}
    allowed = [m for m in conn.details.get("allowed") or [] if m in {x["id"] for x in models}]
    conn.details["allowed"] = allowed
    return models


def test_key(conn: Connection, actor=None) -> tuple[bool, str]:
    """ "Test connection" for an API key: list the models; record the outcome."""
    ok, message = False, ""
    try:
        models = list_models(conn)
        ok = True
        message = _("%(count)s models available") % {"count": len(models)}
    except IntegrationError as error:
        message = error.message
    now = timezone.now()
    conn.last_checked_at, conn.last_check_ok = now, ok
    fields = ["details", "last_checked_at", "last_check_ok", "updated_at"]
    if ok and conn.status == Connection.Status.NEEDS_RECONNECT:
        conn.status, conn.last_error = Connection.Status.ACTIVE, ""
        fields += ["status", "last_error"]
    elif not ok:
        conn.last_error = message
        fields.append("last_error")
    conn.save(update_fields=fields)
    return ok, message


def add_key(
    workspace, slug: str, label: str, key: str, *, base_url: str = "", actor=None, check=True
):
    """A new API-key connection; with ``check`` the key is tried first (its models listed)
    and nothing is saved when the provider refuses it."""
    app = provider(slug)
    label = (label or "").strip()
    if not label:
        raise KeyProblem(_("Give the connection a name, such as “OpenAI”."))
    key = (key or "").strip()
    if not key and not getattr(app, "key_optional", False):
        raise KeyProblem(_("Enter the API key."))
    base_url = clean_base_url(base_url)
    if slug == "openai_compatible" and not base_url:
        raise KeyProblem(_("Enter the server's base URL, such as http://127.0.0.1:11434/v1."))
    conn = Connection(
        workspace=workspace,
        integration=slug,
        kind=Connection.Kind.API_KEY,
        label=label,
        details={"base_url": base_url} if base_url else {},
        created_by=actor,
    )
    conn.access_token = key
    if check:
        try:
            list_models(conn)
        except IntegrationError as error:
            raise KeyProblem(error.message) from None
        conn.last_checked_at, conn.last_check_ok = timezone.now(), True
    try:
        with transaction.atomic():
            conn.save()
    except IntegrityError:
        raise KeyProblem(
            _("A connection called “%(label)s” exists already.") % {"label": label}
        ) from None
    audit(workspace, actor, "connection.added", label, connection_id=conn.pk, app=slug)
    return conn


def replace_key(conn: Connection, key: str, actor=None) -> None:
    """A new key for a connection (after the provider refused the old one)."""
    conn.access_token = key.strip()
    conn.status, conn.last_error = Connection.Status.ACTIVE, ""
    conn.save(update_fields=["access_token", "status", "last_error", "updated_at"])
    audit(conn.workspace, actor, "connection.key_replaced", conn.label, connection_id=conn.pk)


def set_allowed(conn: Connection, models: list[str]) -> None:
    available = {m["id"] for m in (conn.details or {}).get("available") or []}
    conn.details = {**(conn.details or {}), "allowed": [m for m in models if m in available]}
    conn.save(update_fields=["details", "updated_at"])
