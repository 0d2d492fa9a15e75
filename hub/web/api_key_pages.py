"""Pages for API-key connections (the AI providers): add one (the key is tried, then kept
encrypted and never shown again), choose the models members may pick, enter a new key."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hub.connections import api_keys
from hub.connections.models import Connection
from hub.web.decorators import admin_required, member_required, require_admin


@admin_required
def add_key(request, slug: str):
    try:
        app = api_keys.provider(slug)
    except api_keys.KeyProblem:
        return render(request, "errors/404.html", status=404)
    values = {"label": app.name, "base_url": ""}
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in ("label", "base_url")}
        try:
            conn = api_keys.add_key(
                request.workspace,
                slug,
                values["label"],
                request.POST.get("key", ""),
                base_url=values["base_url"],
                actor=request.user,
            )
        except api_keys.KeyProblem as problem:
            messages.error(request, str(problem))
        else:
            count = len(conn.details.get("available") or [])
            messages.success(
                request,
                _(
                    "“%(label)s” is connected: %(count)s models available. Choose which "
                    "members may pick."
                )
                % {"label": conn.label, "count": count},
            )
            return redirect("connection_detail", pk=conn.pk)
    return render(
        request,
        "connections/add_key.html",
        {"app": app, "values": values, "needs_url": slug == "openai_compatible"},
        status=400 if request.method == "POST" else 200,
    )


def _api_key_connection(request, pk: int) -> Connection:
    conn = get_object_or_404(
        Connection, pk=pk, workspace=request.workspace, kind=Connection.Kind.API_KEY
    )
    require_admin(request)
    return conn


@member_required
@require_POST
def models(request, pk: int):
    conn = _api_key_connection(request, pk)
    api_keys.set_allowed(conn, request.POST.getlist("allowed"))
    messages.success(request, _("Saved. Members may pick the models you ticked (all, if none)."))
    return redirect("connection_detail", pk=pk)


@member_required
@require_POST
def replace_key(request, pk: int):
    conn = _api_key_connection(request, pk)
    key = request.POST.get("key", "").strip()
    if not key:
        messages.error(request, _("Enter the new API key."))
        return redirect("connection_detail", pk=pk)
    api_keys.replace_key(conn, key, actor=request.user)
    ok, message = api_keys.test_key(conn, actor=request.user)
    if ok:
        messages.success(request, _("The new key works: %(what)s.") % {"what": message})
    else:
        messages.error(request, _("The test failed: %(why)s") % {"why": message})
    return redirect("connection_detail", pk=pk)
