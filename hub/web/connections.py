"""Connection pages: the list (with the apps an admin can connect) and one connection's page.

Admins rename, share, test and disconnect accounts. Members see the connections they may use
(and may test them). Connecting and reconnecting is in hub/web/oauth.py.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hub.accounts.models import audit
from hub.connections import api_keys, oauth, vault
from hub.connections.models import Connection
from hub.web.decorators import member_required, require_admin
from hub.web.forms import ConnectionSettingsForm
from integrations import registry


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
            "key_apps": api_keys.providers() if request.membership.is_admin else [],
        },
    )


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
    if conn.kind == Connection.Kind.API_KEY:
        ok, message = api_keys.test_key(conn, actor=request.user)
    else:
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
