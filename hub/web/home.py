from django.shortcuts import render

from hub.accounts.models import Membership, Workspace
from hub.web.decorators import member_required


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
