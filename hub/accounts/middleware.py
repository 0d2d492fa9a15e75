from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from hub.accounts.models import Membership

SESSION_KEY = "workspace_id"


def current_membership(request) -> Membership | None:
    """The signed-in user's membership in the workspace they chose (or their first one)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    memberships = Membership.objects.select_related("workspace").filter(user=user)
    chosen = request.session.get(SESSION_KEY)
    membership = None
    if chosen is not None:
        membership = memberships.filter(workspace_id=chosen).first()
    if membership is None:
        membership = memberships.order_by("joined_at", "id").first()
        if membership is not None:
            request.session[SESSION_KEY] = membership.workspace_id
    return membership


class CurrentWorkspaceMiddleware:
    """Sets request.membership and request.workspace, looked up on first use."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = SimpleLazyObject(lambda: current_membership(request))
        request.workspace = SimpleLazyObject(
            lambda: request.membership.workspace if request.membership else None
        )
        return self.get_response(request)
