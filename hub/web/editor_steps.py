"""Adding, moving, duplicating and deleting steps in the editor, and the Insert data list.

Each answers with the whole list of step cards (numbers and "+" buttons change with the
order), the save state and the problems; ``focus`` names the control the page moves focus
to after the swap, so a keyboard user stays where they were working."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from hub.recipes import drafts
from hub.web import editor_cards as cards
from hub.web.decorators import member_required
from hub.web.editor import answer
from hub.web.editor_context import PAGE, cards_context, draft_of, editable


def _steps_answer(request, recipe, focus: str):
    context = cards_context(request, recipe)
    context["focus_target"] = focus
    return answer(request, recipe, "steps", context, problems=context["problems"])


def _position(request) -> int:
    raw = request.POST.get("position", "")
    return int(raw) if raw.isdigit() else 10_000


@member_required
@require_POST
def add_step(request, pk: int):
    recipe = editable(request, pk)
    try:
        recipe, key = drafts.add_step(recipe, _position(request))
    except drafts.DraftError as error:
        return answer(request, recipe, None, None, message=str(error))
    return _steps_answer(request, recipe, f"step-{key}-stage")


def _step_change(request, pk: int, key: str, operation):
    recipe = editable(request, pk)
    try:
        return operation(recipe)
    except LookupError:
        raise Http404 from None
    except drafts.DraftError as error:
        return answer(request, recipe, None, None, message=str(error))


@member_required
@require_POST
def move_step(request, pk: int, key: str):
    delta = -1 if request.POST.get("direction") == "up" else 1

    def operation(recipe):
        recipe = drafts.move_step(recipe, key, delta)
        direction = "up" if delta < 0 else "down"
        index, _step = drafts.find_step(recipe.draft, key)
        # At either end the pressed button is gone: focus its twin.
        if index == 0:
            direction = "down"
        elif index == len(recipe.draft["steps"]) - 1:
            direction = "up"
        return _steps_answer(request, recipe, f"step-{key}-move-{direction}")

    return _step_change(request, pk, key, operation)


@member_required
@require_POST
def duplicate_step(request, pk: int, key: str):
    def operation(recipe):
        recipe, twin = drafts.duplicate_step(recipe, key)
        return _steps_answer(request, recipe, f"step-{twin}-heading")

    return _step_change(request, pk, key, operation)


@member_required
@require_POST
def delete_step(request, pk: int, key: str):
    def operation(recipe):
        index, _step = drafts.find_step(draft_of(recipe), key)
        recipe = drafts.delete_step(recipe, key)
        steps = recipe.draft.get("steps") or []
        if steps:
            neighbour = steps[min(index, len(steps) - 1)]["key"]
            return _steps_answer(request, recipe, f"step-{neighbour}-heading")
        return _steps_answer(request, recipe, "add-step-0")

    return _step_change(request, pk, key, operation)


@member_required
@require_GET
def insert_data(request, pk: int):
    """What a step may insert: the trigger's and the earlier steps' outputs with samples."""
    recipe = editable(request, pk)
    draft = draft_of(recipe)
    before = request.GET.get("before")
    upto = None
    if before:
        try:
            upto, _step = drafts.find_step(draft, before)
        except LookupError:
            raise Http404 from None
    samples = drafts.samples(recipe)
    groups = cards.data_groups(draft, upto, samples)
    # Which sources still show their declared example values rather than a real test's.
    sources = ["trigger", *(s["key"] for s in (draft.get("steps") or [])[:upto])]
    untested = any(not (samples.get(k) and samples[k].tested_at) for k in sources)
    return render(request, f"{PAGE}#data_list", {"groups": groups, "untested": untested})
