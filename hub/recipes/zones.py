"""Changing a workspace's time zone moves the schedules that follow it.

A recipe without a "timezone" of its own reads its dates in its workspace's zone, so when an
admin changes that zone the next fire time of each such active schedule is computed again
("every weekday at 9:00" stays 9:00 where the team is)."""

from __future__ import annotations

from django.db import transaction

from hub.accounts.models import Workspace, audit
from hub.recipes.models import Recipe


def set_workspace_zone(workspace: Workspace, name: str, *, user=None) -> int:
    """Store the zone and re-time the schedules that follow it; returns how many."""
    from hub.engine.scheduler import sync_trigger

    moved = 0
    with transaction.atomic():
        previous = workspace.timezone
        Workspace.objects.filter(pk=workspace.pk).update(timezone=name)
        workspace.timezone = name
        following = Recipe.objects.filter(
            workspace=workspace,
            state=Recipe.State.ACTIVE,
            current_version__timezone="",
            trigger_state__kind="schedule",
        ).select_related("current_version", "workspace")
        for recipe in following:
            sync_trigger(recipe)
            moved += 1
        audit(workspace, user, "workspace.timezone", name, previous=previous, schedules=moved)
    return moved
