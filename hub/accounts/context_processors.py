from hub.accounts.models import Membership


def workspace(request):
    membership = getattr(request, "membership", None)
    if not membership:
        return {}
    return {
        "workspace": membership.workspace,
        "membership": membership,
        "is_workspace_admin": membership.is_admin,
        "my_workspaces": Membership.objects.filter(user=request.user)
        .select_related("workspace")
        .order_by("workspace__name"),
    }
