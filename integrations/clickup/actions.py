"""ClickUp actions. The full set arrives with the recipes issue; this one proves the contract."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from integrations.base import Action, Context, OutputField


def get_user(ctx: Context) -> dict[str, Any]:
    user = ctx.client().user()
    return {
        "id": str(user.get("id") or ""),
        "name": user.get("username"),
        "email": user.get("email"),
    }


GET_USER = Action(
    key="get_user",
    label=_("Get the connected user"),
    run=get_user,
    effect="read",
    outputs=(
        OutputField("id", _("User ID")),
        OutputField("name", _("Name")),
        OutputField("email", _("Email address")),
    ),
    sample={"id": "183", "name": "Ada Lovelace", "email": "ada@acme.test"},
)

ACTIONS = {GET_USER.key: GET_USER}
