"""Who may manage a recipe and who may see its runs' data.

- **Manage** (publish, pause, replace its draft on import, delete): the workspace's admins
  and the recipe's owner. The command line (no user) acts as an operator and may manage all.
- **See** a run's data (trigger data, step inputs, outputs and errors): admins, the recipe's
  owner, and members who may use every connection the run's version names — the data came
  through those connections, so it is shown to whoever may use them. Everyone else in the
  workspace sees that a run happened (on its own page), not what it carried.

Whether a person may use a connection is ``Connection.objects.usable_by`` (shared with
everyone, or with them by name; admins all).
"""

from __future__ import annotations

from hub.accounts.models import Membership


def _membership(user, workspace_id) -> Membership | None:
    if user is None or not getattr(user, "is_authenticated", True):
        return None
    return Membership.objects.filter(workspace_id=workspace_id, user=user).first()


def may_manage(user, recipe, membership: Membership | None = None) -> bool:
    if user is None:
        return True
    membership = membership or _membership(user, recipe.workspace_id)
    if membership is None or membership.workspace_id != recipe.workspace_id:
        return False
    return membership.is_admin or recipe.owner_id == membership.user_id


def step_connection_ids(document) -> set[int]:
    """The ids of the connections a stored recipe document's trigger and steps name."""
    return {
        step["connection_id"]
        for step in named_parts(document)
        if isinstance(step, dict) and _is_id(step.get("connection_id"))
    }


def named_parts(document) -> list:
    """The trigger and the steps of a document: the parts that may name a connection."""
    if not isinstance(document, dict):
        return []
    trigger = document.get("trigger")
    steps = document.get("steps")
    return [p for p in [trigger, *(steps if isinstance(steps, list) else [])] if p]


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def hidden_versions(membership: Membership):
    """The versions of the membership's workspace whose runs it may not see, as a subquery
    of ids (None: it may see all)."""
    from hub.connections.models import Connection
    from hub.recipes.models import RecipeVersion

    if membership.is_admin:
        return None
    workspace = membership.workspace_id
    usable = Connection.objects.usable_by(membership.user_id, workspace).values("pk")
    not_usable = Connection.objects.for_workspace(workspace).exclude(pk__in=usable)
    return (
        RecipeVersion.objects.filter(recipe__workspace_id=workspace, connections__in=not_usable)
        .exclude(recipe__owner_id=membership.user_id)
        .values("pk")
    )


def may_see_run(membership: Membership | None, run) -> bool:
    if membership is None or membership.workspace_id != run.workspace_id:
        return False
    hidden = hidden_versions(membership)
    return hidden is None or not hidden.filter(pk=run.version_id).exists()


def visible_runs(membership, runs):
    """``runs`` without those whose data the member may not see (docs/engine.md, "Who sees a
    run's data")."""
    hidden = hidden_versions(membership)
    return runs if hidden is None else runs.exclude(version_id__in=hidden)
