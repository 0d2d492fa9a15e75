"""The audit log page: who did what, when, for admins of the workspace."""

from __future__ import annotations

from datetime import timedelta

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hub.accounts.models import AuditEvent, User
from hub.web.decorators import admin_required

ACTION_NAMES = {
    "connection.connected": _("Connected an app"),
    "connection.reconnected": _("Reconnected an app"),
    "connection.refresh_failed": _("Connection refresh failed"),
    "connection.broken": _("Connection stopped working"),
    "connection.disconnected": _("Disconnected an app"),
    "connection.changed": _("Changed a connection's name or sharing"),
    "oauth_app.changed": _("Changed an app's client ID or secret"),
    "member.invited": _("Invited someone"),
    "member.invite_revoked": _("Withdrew an invitation"),
    "member.joined": _("Joined the workspace"),
    "member.role_changed": _("Changed a member's role"),
    "member.removed": _("Removed a member"),
}
PERIODS = {"1": 1, "7": 7, "30": 30}
DETAIL_NAMES = {
    "app": _("App"),
    "reason": _("Why"),
    "role": _("Role"),
    "account": _("Account"),
    "old_label": _("Old name"),
    "revoked_at_app": _("Access withdrawn at the app"),
    "client_id": _("Client ID"),
    "secret_changed": _("Secret changed"),
}


def _detail_text(details: dict) -> str:
    parts = []
    for key, value in details.items():
        if key.endswith("_id") and key != "client_id":
            continue
        if isinstance(value, bool):
            value = _("yes") if value else _("no")
        elif isinstance(value, list | tuple):
            value = ", ".join(str(v) for v in value) or "—"
        parts.append(f"{DETAIL_NAMES.get(key, key.replace('_', ' ').capitalize())}: {value}")
    return " · ".join(parts)


@admin_required
def audit_log(request):
    workspace = request.workspace
    events = AuditEvent.objects.filter(workspace=workspace).select_related("actor")
    action = request.GET.get("action", "")
    actor = request.GET.get("actor", "")
    period = request.GET.get("period", "")
    if action:
        events = events.filter(action__startswith=action)
    if actor == "system":
        events = events.filter(actor=None)
    elif actor.isdigit():
        events = events.filter(actor_id=int(actor))
    if period in PERIODS:
        events = events.filter(at__gte=timezone.now() - timedelta(days=PERIODS[period]))
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    rows = [
        {
            "event": e,
            "what": ACTION_NAMES.get(e.action, e.action),
            "details": _detail_text(e.details or {}),
        }
        for e in page
    ]
    actions = sorted(
        set(AuditEvent.objects.filter(workspace=workspace).values_list("action", flat=True))
    )
    return render(
        request,
        "accounts/audit.html",
        {
            "rows": rows,
            "page": page,
            "actions": [(a, ACTION_NAMES.get(a, a)) for a in actions],
            "people": User.objects.filter(memberships__workspace=workspace).order_by("email"),
            "current": {"action": action, "actor": actor, "period": period},
            "querystring": request.GET.urlencode(),
        },
    )
