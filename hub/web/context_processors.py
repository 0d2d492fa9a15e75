from hub.accounts.models import Membership
from hub.connections.models import Connection


def workspace(request):
    membership = getattr(request, "membership", None)
    if not membership:
        return {}
    return {
        "workspace": membership.workspace,
        "membership": membership,
        "is_workspace_admin": membership.is_admin,
        "my_workspaces": Membership.objects.filter(user=request.user)
        .select_related("workspace")
        .order_by("workspace__name"),
    }


def llm_budget_alerts(request):
    """Admins see a banner once an AI budget passes 80, 90 or 100 % this month."""
    from hub.llm.budgets import current_alerts

    membership = getattr(request, "membership", None)
    if not membership or not membership.is_admin:
        return {}
    return {"llm_budget_alerts": current_alerts(membership.workspace)}


def broken_connections(request):
    """Admins see a banner while any connection of theirs needs reconnecting."""
    membership = getattr(request, "membership", None)
    if not membership or not membership.is_admin:
        return {}
    broken = list(
        Connection.objects.for_workspace(membership.workspace)
        .filter(status=Connection.Status.NEEDS_RECONNECT)
        .values("pk", "label")[:5]
    )
    return {"broken_connections": broken}
