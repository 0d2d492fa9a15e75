"""Connection pages: the list, app setup, the OAuth round trip, one connection's page.

Admins set up OAuth apps and connect, reconnect, test and disconnect accounts. Members see
the connections they may use (and may test them); they cannot connect their own accounts.
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hub.accounts.decorators import admin_required, member_required, require_admin
from hub.accounts.models import audit
from hub.connections import oauth, vault
from hub.connections.forms import ConnectionSettingsForm, OAuthAppForm
from hub.connections.models import Connection, OAuthApp
from integrations import registry
from integrations.base import Account, Integration, IntegrationError, TokenSet

log = logging.getLogger(__name__)


def _integration(slug: str) -> Integration:
    if slug not in registry.connected_by("oauth"):
        raise Http404
    return registry.get(slug)


def _app_rows(workspace) -> list[dict]:
    rows = []
    for slug in registry.connected_by("oauth"):
        integration = registry.get(slug)
        try:
            creds = oauth.client_credentials(integration, workspace)
        except oauth.NotConfigured:
            creds = None
        rows.append({"integration": integration, "configured": creds is not None})
    return rows


@member_required
def connection_list(request):
    workspace = request.workspace
    connections = (
        Connection.objects.usable_by(request.user, workspace)
        .exclude(status=Connection.Status.DISCONNECTED)
        .select_related("created_by")
    )
    disconnected = []
    if request.membership.is_admin:
        disconnected = Connection.objects.for_workspace(workspace).filter(
            status=Connection.Status.DISCONNECTED
        )
    return render(
        request,
        "connections/list.html",
        {
            "connections": connections,
            "disconnected": disconnected,
            "apps": _app_rows(workspace) if request.membership.is_admin else [],
        },
    )


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


def _visible_connection(request, pk: int) -> Connection:
    qs = Connection.objects.usable_by(request.user, request.workspace)
    return get_object_or_404(qs, pk=pk)


@member_required
def detail(request, pk: int):
    conn = _visible_connection(request, pk)
    form = None
    if request.membership.is_admin:
        form = ConnectionSettingsForm(instance=conn)
    return render(
        request,
        "connections/detail.html",
        {"conn": conn, "integration": conn.app, "form": form},
    )


@member_required
@require_POST
def update_settings(request, pk: int):
    conn = get_object_or_404(Connection, pk=pk, workspace=request.workspace)
    require_admin(request)
    old_label = conn.label
    form = ConnectionSettingsForm(request.POST, instance=conn)
    if not form.is_valid():
        return render(
            request,
            "connections/detail.html",
            {"conn": Connection.objects.get(pk=pk), "integration": conn.app, "form": form},
            status=400,
        )
    form.save()
    audit(
        request.workspace,
        request.user,
        "connection.changed",
        conn.label,
        connection_id=conn.pk,
        old_label=old_label,
        shared_with_all=conn.shared_with_all,
        allowed=sorted(u.email for u in conn.allowed_users.all()),
    )
    messages.success(request, _("Saved."))
    return redirect("connection_detail", pk=conn.pk)


@member_required
@require_POST
def test(request, pk: int):
    conn = _visible_connection(request, pk)
    if conn.status == Connection.Status.DISCONNECTED:
        messages.error(request, conn.unusable_message())
        return redirect("connection_detail", pk=pk)
    ok, message = vault.check_connection(conn, actor=request.user)
    if ok:
        messages.success(request, message)
    else:
        messages.error(request, _("The test failed: %(why)s") % {"why": message})
    return redirect("connection_detail", pk=pk)


@member_required
@require_POST
def disconnect(request, pk: int):
    conn = get_object_or_404(Connection, pk=pk, workspace=request.workspace)
    require_admin(request)
    if conn.status == Connection.Status.DISCONNECTED:
        return redirect("connection_detail", pk=pk)
    revoked = vault.disconnect(conn, request.user)
    if revoked:
        messages.success(
            request,
            _("“%(label)s” is disconnected and %(app)s has withdrawn its access.")
            % {"label": conn.label, "app": conn.app.name},
        )
    else:
        messages.success(
            request,
            _(
                "“%(label)s” is disconnected and its keys are deleted here. %(app)s has no way "
                "for the hub to withdraw access, so also remove the app in %(app)s's settings."
            )
            % {"label": conn.label, "app": conn.app.name},
        )
    return redirect("connection_detail", pk=pk)
