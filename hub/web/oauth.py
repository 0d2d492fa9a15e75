"""Connecting an account: an OAuth app's setup page (client ID and secret), then the round
trip — connect sends the admin to the app, callback takes the code back and saves the
connection. Members cannot connect their own accounts.
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hub.accounts.models import audit
from hub.connections import oauth
from hub.connections.models import Connection, OAuthApp
from hub.web.decorators import admin_required, member_required, require_admin
from hub.web.forms import OAuthAppForm
from integrations import registry
from integrations.base import Account, Integration, IntegrationError, TokenSet

log = logging.getLogger(__name__)


def _integration(slug: str) -> Integration:
    if slug not in registry.connected_by("oauth"):
        raise Http404
    return registry.get(slug)


@admin_required
def app_setup(request, slug: str):
    integration = _integration(slug)
    workspace = request.workspace
    env = oauth.env_credentials(integration)
    saved = OAuthApp.objects.filter(integration=slug, workspace=workspace).first()
    form = OAuthAppForm(
        request.POST or None,
        initial={"client_id": saved.client_id if saved else ""},
        has_secret=bool(saved and saved.client_secret),
    )
    if request.method == "POST" and env is None and form.is_valid():
        with transaction.atomic():
            app = saved or OAuthApp(workspace=workspace, integration=slug)
            changed_secret = bool(form.cleaned_data["client_secret"])
            app.client_id = form.cleaned_data["client_id"].strip()
            if changed_secret:
                app.client_secret = form.cleaned_data["client_secret"].strip()
            app.updated_by = request.user
            app.save()
        audit(
            workspace,
            request.user,
            "oauth_app.changed",
            integration.name,
            app=slug,
            client_id=app.client_id,
            secret_changed=changed_secret,
        )
        messages.success(
            request, _("Saved. You can connect %(app)s now.") % {"app": integration.name}
        )
        return redirect("connection_app", slug=slug)
    try:
        configured = oauth.client_credentials(integration, workspace)
    except oauth.NotConfigured:
        configured = None
    return render(
        request,
        "connections/app_setup.html",
        {
            "integration": integration,
            "redirect_uri": oauth.redirect_uri(integration),
            "from_env": env is not None,
            "configured": configured is not None,
            "configured_client_id": configured.client_id if configured else "",
            "form": form,
            "env_prefix": integration.oauth.env_prefix,
            "connections": Connection.objects.for_workspace(workspace).filter(integration=slug),
        },
    )


@member_required
@require_POST
def connect(request, slug: str):
    integration = _integration(slug)
    reconnect_id = request.POST.get("reconnect")
    target = None
    if reconnect_id:
        target = get_object_or_404(
            Connection, pk=reconnect_id, workspace=request.workspace, integration=slug
        )
    require_admin(request)
    try:
        url = oauth.begin(
            request.session,
            integration,
            request.workspace,
            request.user,
            target.pk if target else None,
        )
    except oauth.NotConfigured:
        messages.error(
            request,
            _("Enter %(app)s's client ID and secret first.") % {"app": integration.name},
        )
        return redirect("connection_app", slug=slug)
    return redirect(url)


def _problem(request, integration, title: str, explanation: str, status: int = 400):
    return render(
        request,
        "connections/oauth_problem.html",
        {"integration": integration, "title": title, "explanation": explanation},
        status=status,
    )


@member_required
def callback(request, slug: str):
    integration = _integration(slug)
    flow = oauth.take_flow(request.session, request.GET.get("state"))
    if (
        flow is None
        or flow.get("integration") != slug
        or flow.get("user_id") != request.user.pk
        or flow.get("workspace_id") != request.workspace.pk
    ):
        return _problem(
            request,
            integration,
            _("This connection attempt is no longer valid"),
            _(
                "The link back from %(app)s was already used, expired, or was started in "
                "another browser or workspace. Nothing was connected. Start again from "
                "Connections."
            )
            % {"app": integration.name},
        )
    error = request.GET.get("error")
    if error:
        if error == "access_denied":
            return _problem(
                request,
                integration,
                _("You cancelled the connection"),
                _(
                    "%(app)s was not connected because access was not allowed. To connect "
                    "it, start again and choose Allow."
                )
                % {"app": integration.name},
                status=200,
            )
        return _problem(
            request,
            integration,
            _("%(app)s did not connect") % {"app": integration.name},
            _(
                "%(app)s reported “%(error)s”. Check the app's settings in its developer "
                "console (the redirect URL and permissions), then try again."
            )
            % {"app": integration.name, "error": error[:100]},
        )
    code = request.GET.get("code")
    if not code:
        return _problem(
            request,
            integration,
            _("%(app)s did not connect") % {"app": integration.name},
            _("%(app)s sent no authorisation code back. Try connecting again.")
            % {"app": integration.name},
        )
    try:
        answer, tokens = oauth.exchange_code(
            integration, request.workspace, code, flow.get("verifier")
        )
        account = integration.account(answer)
    except oauth.NotConfigured:
        return _problem(
            request,
            integration,
            _("%(app)s is not set up") % {"app": integration.name},
            _("Enter the app's client ID and secret, then connect again."),
        )
    except oauth.TokenError as exc:
        log.warning("%s code exchange refused: %s", slug, exc.code)
        return _problem(
            request,
            integration,
            _("%(app)s refused the connection") % {"app": integration.name},
            _(
                "%(app)s answered “%(code)s”. If the client secret was changed in the app's "
                "console, enter the new one here; then connect again."
            )
            % {"app": integration.name, "code": exc.code},
            status=502 if exc.transient else 400,
        )
    except IntegrationError as exc:
        return _problem(
            request,
            integration,
            _("Connected, but the account could not be read"),
            _("%(message)s Try connecting again.") % {"message": exc.message},
            status=502,
        )
    conn, created = save_connection(request, integration, account, tokens, flow)
    if created:
        messages.success(
            request,
            _("%(app)s is connected as “%(label)s”.")
            % {"app": integration.name, "label": conn.label},
        )
    else:
        messages.success(request, _("“%(label)s” is reconnected.") % {"label": conn.label})
    if flow.get("reconnect_id") and flow["reconnect_id"] != conn.pk:
        messages.warning(
            request,
            _(
                "You approved a different %(app)s account than the one being reconnected, "
                "so it was added as its own connection."
            )
            % {"app": integration.name},
        )
    return redirect("connection_detail", pk=conn.pk)


def unique_label(workspace, wanted: str, exclude_pk: int | None = None) -> str:
    wanted = (wanted or "Connection").strip()[:90]
    taken = set(
        Connection.objects.for_workspace(workspace)
        .exclude(pk=exclude_pk)
        .values_list("label", flat=True)
    )
    label, n = wanted, 2
    while label in taken:
        label, n = f"{wanted} ({n})", n + 1
    return label


def save_connection(
    request, integration: Integration, account: Account, tokens: TokenSet, flow: dict
) -> tuple[Connection, bool]:
    """Create the connection, or update the one already holding this external account."""
    workspace = request.workspace
    for _attempt in range(3):
        try:
            with transaction.atomic():
                conn = None
                if account.external_id:
                    conn = (
                        Connection.objects.select_for_update()
                        .filter(
                            workspace=workspace,
                            integration=integration.slug,
                            external_id=account.external_id,
                        )
                        .first()
                    )
                created = conn is None
                if created:
                    conn = Connection(
                        workspace=workspace,
                        integration=integration.slug,
                        external_id=account.external_id,
                        label=unique_label(workspace, account.label),
                        created_by=request.user,
                    )
                conn.set_tokens(
                    tokens.access_token,
                    tokens.refresh_token,
                    tokens.expires_in,
                    list(tokens.scopes),
                )
                if not tokens.refresh_token:
                    # A reconnect without a new refresh token must not keep a dead one.
                    conn.refresh_token = ""
                conn.status = Connection.Status.ACTIVE
                conn.last_error = ""
                conn.details = dict(account.details)
                conn.save()
            break
        except IntegrityError:
            continue
    audit(
        workspace,
        request.user,
        "connection.connected" if created else "connection.reconnected",
        conn.label,
        connection_id=conn.pk,
        app=integration.slug,
        account=account.label,
    )
    return conn, created
