"""Access rules for views: every page belongs to the current workspace."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.translation import gettext as _


def member_required(view):
    """Signed in and a member of some workspace; the view sees request.workspace.

    A PermissionDenied from the view becomes the friendly 403 page here: raised further,
    Django would log it with a traceback, and a member opening an admin page is no error."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.membership:
            return render(request, "accounts/no_workspace.html", status=403)
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as denied:
            return render(request, "errors/403.html", {"reason": str(denied)}, status=403)

    return wrapper


def require_admin(request) -> None:
    """For views about one object: call it after looking the object up in the current
    workspace, so another workspace's object is a 404 whatever the visitor's role."""
    if not request.membership.is_admin:
        raise PermissionDenied(_("Only workspace admins can open this page."))


def admin_required(view):
    """Like member_required, and the member is an admin of the current workspace. Views
    that name an object by id use member_required and require_admin instead."""

    @member_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        require_admin(request)
        return view(request, *args, **kwargs)

    return wrapper
