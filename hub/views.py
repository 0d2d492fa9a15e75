from django.http import HttpResponseNotAllowed, HttpResponseServerError
from django.shortcuts import render
from django.template import loader

from hub.accounts.decorators import member_required
from hub.accounts.models import Membership, Workspace


@member_required
def home(request):
    workspace: Workspace = request.workspace
    return render(
        request,
        "home.html",
        {
            "member_count": Membership.objects.filter(workspace=workspace).count(),
        },
    )


def bad_request(request, exception=None):
    return render(request, "errors/400.html", status=400)


def permission_denied(request, exception=None):
    return render(request, "errors/403.html", {"reason": str(exception or "")}, status=403)


def page_not_found(request, exception=None):
    return render(request, "errors/404.html", status=404)


def server_error(request):
    # Rendered without a request context: the database the context needs may be what failed.
    return HttpResponseServerError(loader.get_template("errors/500.html").render())


def method_not_allowed(request, response: HttpResponseNotAllowed):
    """A POST-only address opened in the browser: a page saying what to do, not a blank 405."""
    page = render(request, "errors/405.html", status=405)
    page["Allow"] = response["Allow"]
    return page
