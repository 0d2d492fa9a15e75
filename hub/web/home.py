from django.shortcuts import render
from django.utils import timezone

from hub.accounts.models import Membership, Workspace
from hub.web import dashboard
from hub.web.decorators import member_required


@member_required
def home(request):
    workspace: Workspace = request.workspace
    days = dashboard.runs_per_day(workspace, timezone.get_current_timezone())
    return render(
        request,
        "home.html",
        {
            "member_count": Membership.objects.filter(workspace=workspace).count(),
            "days": days,
            "bars": dashboard.bars(days),
            "chart_width": dashboard.BAR_STEP * len(days),
            "chart_height": dashboard.CHART_HEIGHT,
            "bar_width": dashboard.BAR_WIDTH,
            "runs_total": sum(d.total for d in days),
            "success_rate": dashboard.success_rate(days),
            "attention": dashboard.recipes_needing_attention(workspace),
            "reconnect": dashboard.connections_to_reconnect(workspace),
            "failures": dashboard.recent_failures(request.membership),
        },
    )
