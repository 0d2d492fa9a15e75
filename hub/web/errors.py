"""The error pages: handler400/403/404/500 of the URL table, and the friendly 405."""

from django.http import HttpResponseNotAllowed, HttpResponseServerError
from django.shortcuts import render
from django.template import loader


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
