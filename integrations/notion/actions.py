"""Notion actions. The full set arrives with the recipes issue; this one proves the contract."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from integrations.base import Action, Context, OutputField


def get_me(ctx: Context) -> dict[str, Any]:
    with ctx.integration.errors():
        me = ctx.client().users.me()
    bot = me.get("bot") or {}
    return {
        "id": me.get("id"),
        "name": me.get("name") or "",
        "workspace_name": bot.get("workspace_name") or "",
    }


GET_ME = Action(
    key="get_me",
    label=_("Get the connected integration"),
    help=_("Reads who the hub is in this Notion workspace."),
    run=get_me,
    effect="read",
    outputs=(
        OutputField("id", _("Bot ID")),
        OutputField("name", _("Name")),
        OutputField("workspace_name", _("Workspace")),
    ),
    sample={"id": "6f1c…", "name": "Toolstack Hub", "workspace_name": "Acme HQ"},
)

ACTIONS = {GET_ME.key: GET_ME}
