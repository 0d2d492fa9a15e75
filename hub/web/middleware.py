from __future__ import annotations

from django.http import HttpResponseNotAllowed
from django.utils.functional import SimpleLazyObject

from hub.accounts.models import Membership
from hub.web.errors import method_not_allowed

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


class FriendlyMethodNotAllowedMiddleware:
    """Django answers a wrong method (require_POST) with an empty 405; this gives it the
    site's layout and a sentence. Last in MIDDLEWARE, so the page knows the workspace."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if isinstance(response, HttpResponseNotAllowed) and not response.content:
            return method_not_allowed(request, response)
        return response
