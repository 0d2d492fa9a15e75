"""Notion workspace members: a picker, and an email address turned into the member's id.

``GET /v1/users`` has no search, so the picker filters each page it reads and reads at most
``PAGES_PER_REQUEST`` pages of 100 per request, answering with the cursor to go on from.
Looking up an email reads every page (up to ``MAX_PAGES``) once per step."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from integrations.base import Choice, ChoicePage, Context, IntegrationError
from integrations.notion.calls import call

PAGE_SIZE = 100
PAGES_PER_REQUEST = 3
MAX_PAGES = 50


def _label(user: dict[str, Any]) -> str:
    email = (user.get("person") or {}).get("email") or ""
    name = user.get("name") or email or user.get("id", "")
    return f"{name} ({email})" if email and email != name else name


def _page(ctx: Context, cursor: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {"page_size": PAGE_SIZE}
    if cursor:
        params["start_cursor"] = cursor
    return call(ctx, ctx.client().users.list, **params)


def people_choices(ctx: Context, search: str, page: str | None) -> ChoicePage:
    """People (not bots) whose name or email holds ``search``."""
    needle = search.strip().lower()
    found: list[Choice] = []
    cursor = page
    for _read in range(PAGES_PER_REQUEST):
        answer = _page(ctx, cursor)
        for user in answer.get("results") or []:
            if user.get("type") != "person":
                continue
            label = _label(user)
            if needle in label.lower():
                found.append(Choice(user["id"], label))
        cursor = answer.get("next_cursor") if answer.get("has_more") else None
        if not cursor or (found and len(found) >= PAGE_SIZE):
            break
    return ChoicePage(found, cursor)


class People:
    """Emails to user ids for one step: the member list is read once, when first needed."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._by_email: dict[str, str] | None = None

    def _load(self) -> dict[str, str]:
        by_email: dict[str, str] = {}
        cursor = None
        for _read in range(MAX_PAGES):
            answer = _page(self.ctx, cursor)
            for user in answer.get("results") or []:
                email = (user.get("person") or {}).get("email")
                if email:
                    by_email[email.strip().lower()] = user["id"]
            cursor = answer.get("next_cursor") if answer.get("has_more") else None
            if not cursor:
                break
        return by_email

    def id_for(self, email: str) -> str:
        if self._by_email is None:
            self._by_email = self._load()
        found = self._by_email.get(email.strip().lower())
        if found is None:
            raise IntegrationError(
                _(
                    "Nobody in the Notion workspace has the email address %(email)s. Check the "
                    "address, or pick the person from the list."
                )
                % {"email": email},
                permanent=True,
            )
        return found
