from django.utils.functional import SimpleLazyObject

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


def _once_per_request(request, name: str, read):
    """``read()`` when a template first uses the value, and only once per request: the
    page layout shows these banners, the partials an htmx answer renders (several per
    answer in the editor) never ask for them."""
    cache = request.__dict__.setdefault("_banner_values", {})
    if name not in cache:
        cache[name] = SimpleLazyObject(read)
    return cache[name]


def llm_budget_alerts(request):
    """Admins see a banner once an AI budget passes 80, 90 or 100 % this month."""
    from hub.llm.budgets import current_alerts

    membership = getattr(request, "membership", None)
    if not membership or not membership.is_admin:
        return {}
    alerts = _once_per_request(
        request, "llm_budget_alerts", lambda: list(current_alerts(membership.workspace))
    )
    return {"llm_budget_alerts": alerts}


def broken_connections(request):
    """Admins see a banner while any connection of theirs needs reconnecting."""
    membership = getattr(request, "membership", None)
    if not membership or not membership.is_admin:
        return {}

    def read():
        return list(
            Connection.objects.for_workspace(membership.workspace)
            .filter(status=Connection.Status.NEEDS_RECONNECT)
            .values("pk", "label")[:5]
        )

    return {"broken_connections": _once_per_request(request, "broken_connections", read)}
