"""ClickUp Workspaces and their members: the Workspace picker, finding a member by email,
and turning the email addresses a recipe maps into assignees' user ids."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from integrations.base import (
    Action,
    Choice,
    ChoicePage,
    Context,
    Field,
    IntegrationError,
    OutputField,
)
from integrations.clickup.paging import paged


def teams(ctx: Context) -> list[dict[str, Any]]:
    """The Workspaces the connection was authorised for, each with its members (GET /team)."""
    with ctx.integration.errors():
        return ctx.client().teams()


def workspace_choices(ctx: Context, search: str, page: str | None) -> ChoicePage:
    needle = (search or "").strip().lower()
    return ChoicePage(
        [
            Choice(str(t["id"]), str(t.get("name") or t["id"]))
            for t in teams(ctx)
            if needle in str(t.get("name") or "").lower()
        ]
    )


def member_choices(ctx: Context, search: str, page: str | None) -> ChoicePage:
    """The members of every Workspace the connection sees (one GET /team), by name and
    email address; the value is the user id."""
    seen: dict[str, Choice] = {}
    for found in teams(ctx):
        for entry in found.get("members") or []:
            user = entry.get("user") or {}
            if user.get("id") is None:
                continue
            name = user.get("username") or user.get("email") or str(user["id"])
            label = f"{name} ({user['email']})" if user.get("email") else str(name)
            seen.setdefault(str(user["id"]), Choice(str(user["id"]), label))
    return paged(list(seen.values()), search, page)


def team(ctx: Context, team_id: Any) -> dict[str, Any]:
    wanted = str(team_id or "").strip()
    for found in teams(ctx):
        if str(found["id"]) == wanted:
            return found
    raise IntegrationError(
        gettext(
            "This ClickUp Workspace is not authorised for Toolstack — reconnect ClickUp and "
            "tick it."
        ),
        permanent=True,
    )


def member(user: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(user.get("id") or ""),
        "username": user.get("username") or "",
        "email": user.get("email") or "",
    }


def not_a_member(email: str) -> IntegrationError:
    return IntegrationError(
        gettext(
            "No one in this ClickUp Workspace has the email address %(email)s. Check the "
            "address, or invite them to the Workspace in ClickUp first."
        )
        % {"email": email},
        permanent=True,
    )


def by_email(members: list[dict[str, Any]], email: str) -> dict[str, Any] | None:
    needle = email.strip().lower()
    for entry in members:
        user = entry.get("user") or {}
        if str(user.get("email") or "").lower() == needle:
            return user
    return None


def find_member_by_email(ctx: Context) -> dict[str, Any]:
    email = str(ctx.config["email"]).strip()
    user = by_email(team(ctx, ctx.config["workspace"]).get("members") or [], email)
    if user is None:
        raise not_a_member(email)
    return member(user)


def user_ids(ctx: Context, values: Any) -> list[int]:
    """Assignees as ClickUp user ids: ids as given, email addresses looked up among the
    members of every Workspace the connection sees (one GET /team, only when needed)."""
    if values in (None, ""):
        return []
    if isinstance(values, str):
        values = values.replace(";", ",").split(",")
    elif not isinstance(values, list | tuple):
        values = [values]
    wanted = [str(v).strip() for v in values if str(v).strip()]
    members: list[dict[str, Any]] | None = None
    ids: list[int] = []
    for value in wanted:
        if "@" in value:
            if members is None:
                members = [m for t in teams(ctx) for m in t.get("members") or []]
            user = by_email(members, value)
            if user is None:
                raise not_a_member(value)
            value = str(user["id"])
        try:
            ids.append(int(value))
        except ValueError:
            raise IntegrationError(
                gettext("“%(value)s” is neither a ClickUp user id nor an email address.")
                % {"value": value},
                permanent=True,
            ) from None
    return list(dict.fromkeys(ids))


def assignees_field(help: Any = None) -> Field:
    """People picked from the Workspaces' members, or email addresses (a mapped value from
    an earlier step) looked up among them when the step runs."""
    return Field(
        "assignees",
        _("Assignees"),
        kind="choice",
        multiple=True,
        help=help
        or _("Pick members, or give their email addresses (for example from an earlier step)."),
        dynamic_choices=member_choices,
    )


WORKSPACE = Field(
    "workspace",
    _("Workspace"),
    kind="choice",
    required=True,
    help=_("A ClickUp Workspace this connection was authorised for."),
    dynamic_choices=workspace_choices,
)

FIND_MEMBER_BY_EMAIL = Action(
    key="find_member_by_email",
    label=_("Find a member by email"),
    help=_("Looks up the member of a ClickUp Workspace with an email address, to assign later."),
    run=find_member_by_email,
    effect="read",
    fields=(WORKSPACE, Field("email", _("Email address"), required=True)),
    outputs=(
        OutputField("id", _("User ID")),
        OutputField("username", _("Username")),
        OutputField("email", _("Email address")),
    ),
    sample={"id": "81234567", "username": "Ada Lovelace", "email": "ada@acme.test"},
)
