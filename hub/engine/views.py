from django.shortcuts import render

from hub.accounts.decorators import member_required


@member_required
def run_list(request):
    return render(request, "engine/runs.html", {"runs": []})
