from __future__ import annotations

from django.http import HttpResponseNotAllowed

from hub.views import method_not_allowed


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
