from django.shortcuts import render

from hub.accounts.decorators import member_required


@member_required
def recipe_list(request):
    return render(request, "recipes/list.html", {"recipes": []})
