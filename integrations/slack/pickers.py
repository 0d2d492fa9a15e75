"""The people picker: a Slack page of members at a time."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from integrations.base import Choice, ChoicePage, Context

PAGE_SIZE = 200
# A search keeps reading pages until it has this many matches or has spent MAX_ROUNDS calls.
ENOUGH_MATCHES = 20
MAX_ROUNDS = 3


def user_label(user: dict) -> str:
    profile = user.get("profile") or {}
    name = profile.get("real_name") or user.get("real_name") or user.get("name") or user["id"]
    email = profile.get("email")
    return f"{name} ({email})" if email else str(name)


def _person(user: dict) -> bool:
    return not user.get("deleted") and not user.get("is_bot") and user.get("id") != "USLACKBOT"


def user_choices(ctx: Context, search: str, page: str | None) -> ChoicePage:
    """People of the workspace (not bots, not deactivated). Slack's users.list has no search,
    so a search filters names and emails over at most MAX_ROUNDS pages and hands back the
    cursor to go on; a full email address is looked up directly in one call."""
    client = ctx.client()
    needle = (search or "").strip().lstrip("@").lower()
    with ctx.integration.errors():
        if "@" in needle and not page:
            try:
                user = client.users_lookupByEmail(email=needle)["user"]
            except SlackApiError as exc:
                if (exc.response.data or {}).get("error") != "users_not_found":
                    raise
                return ChoicePage([])
            return ChoicePage([Choice(user["id"], user_label(user))] if _person(user) else [])
        choices: list[Choice] = []
        cursor = page
        for _round in range(MAX_ROUNDS if needle else 1):
            answer = client.users_list(limit=PAGE_SIZE, cursor=cursor or None)
            for user in answer.get("members", []):
                if not _person(user):
                    continue
                label = user_label(user)
                if needle and needle not in f"{label} {user.get('name', '')}".lower():
                    continue
                choices.append(Choice(user["id"], label))
            cursor = (answer.get("response_metadata") or {}).get("next_cursor") or None
            if cursor is None or len(choices) >= ENOUGH_MATCHES:
                break
    return ChoicePage(choices, cursor)
