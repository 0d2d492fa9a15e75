"""Access rules for views: every page belongs to the current workspace."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.translation import gettext as _


def member_required(view):
    """Signed in and a member of some workspace; the view sees request.workspace."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.membership:
            return render(request, "accounts/no_workspace.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper


def admin_required(view):
    """Like member_required, and the member is an admin of the current workspace."""

    @member_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.membership.is_admin:
            raise PermissionDenied(_("Only workspace admins can open this page."))
        return view(request, *args, **kwargs)

    return wrapper
