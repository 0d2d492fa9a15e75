"""A recipe's published versions with what each changed, and "Restore into draft"."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hub.recipes import drafts, version_diff
from hub.recipes.models import RecipeVersion
from hub.web.decorators import member_required
from hub.web.editor_context import editable

SHOWN = 50


@member_required
def versions(request, pk: int):
    recipe = editable(request, pk)
    rows = list(recipe.versions.select_related("published_by").order_by("-number")[: SHOWN + 1])
    listed = []
    for i, version in enumerate(rows[:SHOWN]):
        previous = rows[i + 1].document if i + 1 < len(rows) else None
        listed.append(
            {"version": version, "changes": version_diff.describe(previous, version.document)}
        )
    draft_changes = []
    if recipe.current_version and recipe.draft:
        draft_changes = version_diff.describe(recipe.current_version.document, recipe.draft)
    return render(
        request,
        "recipes/editor/versions.html",
        {"recipe": recipe, "versions": listed, "draft_changes": draft_changes},
    )


@member_required
@require_POST
def restore(request, pk: int, number: int):
    recipe = editable(request, pk)
    version = get_object_or_404(RecipeVersion, recipe=recipe, number=number)
    drafts.restore(recipe, version, user=request.user)
    messages.success(
        request,
        _("Version %(n)s is the draft again. The live version keeps running until you publish.")
        % {"n": number},
    )
    return redirect("editor", recipe.pk)
