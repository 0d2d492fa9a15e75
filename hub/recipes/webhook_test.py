"""Test trigger on a webhook: wait for one call to the recipe's address.

Pressing Test opens a window (``WAIT``) in which the next call to the address becomes the
trigger's sample — also for a draft that was never published, whose address otherwise
answers nothing. Only a call that arrives after the press counts, and only one: the intake
claims the window with a conditional update, so two calls at once give one sample.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from hub.recipes.drafts import keep_sample
from hub.recipes.models import Recipe, StepSample

# How long the editor waits for the call; its card polls every POLL_SECONDS until then.
WAIT = timedelta(minutes=3)
POLL_SECONDS = 2


def listen(recipe: Recipe) -> datetime:
    """Open the window from now; returns when it opened (the editor polls with it)."""
    since = timezone.now()
    Recipe.objects.filter(pk=recipe.pk).update(webhook_test_from=since)
    return since


def take_call(recipe_id: int, data: dict) -> bool:
    """Keep ``data`` as the trigger's sample if a test is waiting for a call; True if so."""
    now = timezone.now()
    claimed = Recipe.objects.filter(
        pk=recipe_id, webhook_test_from__gte=now - WAIT, draft__trigger__app="webhook"
    ).update(webhook_test_from=None)
    if not claimed:
        return False
    keep_sample(Recipe(pk=recipe_id), "trigger", data)
    return True


def heard(recipe: Recipe, since: datetime) -> StepSample | None:
    """The call that arrived since the test opened its window, if one did."""
    if recipe.webhook_test_from is not None and recipe.webhook_test_from >= since:
        return None  # still waiting
    return StepSample.objects.filter(
        recipe=recipe, step_key="trigger", tested_at__gte=since
    ).first()


def expired(since: datetime) -> bool:
    return timezone.now() - since > WAIT
