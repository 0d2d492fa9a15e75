from django.http import JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.cache import never_cache

from hub.system.health import run_checks
from hub.system.models import Heartbeat
from hub.web.decorators import admin_required


@never_cache
def healthz(request):
    """For load balancers and monitors: no sign-in, nothing secret."""
    with translation.override("en"):
        results = run_checks()
    body = {name: "ok" if reason is None else reason for name, reason in results.items()}
    healthy = all(reason is None for reason in results.values())
    return JsonResponse(body, status=200 if healthy else 503)


@admin_required
def status(request):
    results = run_checks()
    return render(
        request,
        "system/status.html",
        {
            "checks": [(name, reason) for name, reason in results.items()],
            "healthy": all(reason is None for reason in results.values()),
            "heartbeats": {h.component: h for h in Heartbeat.objects.all()},
        },
    )
