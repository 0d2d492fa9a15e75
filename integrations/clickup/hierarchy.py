"""Pickers over ClickUp's hierarchy: Workspace → Space → Folder (optional) → List, the
lists of a whole Workspace, and the statuses of a list.

ClickUp answers each level in one response (its hierarchy endpoints take no page
parameters), so a picker reads a level once (kept for ``CHOICES_CACHE_SECONDS`` per
connection) and pages its answer itself; a search keeps the names that contain the words
typed. The Workspace-wide list picker reads a few Spaces per request and says where to go
on in ``next_page``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from integrations.base import Choice, ChoicePage, Context, Field
from integrations.clickup.paging import PAGE_SIZE, offset, paged
from integrations.clickup.people import WORKSPACE

# The Workspace-wide list picker reads at most this many Spaces (two calls each) per request.
SPACES_PER_REQUEST = 3
NO_FOLDER = "none"


def _trim(item: dict[str, Any]) -> dict[str, Any]:
    kept = {"id": item.get("id"), "name": item.get("name")}
    if isinstance(item.get("lists"), list):
        kept["lists"] = [_trim(li) for li in item["lists"]]
    return kept


def _get(ctx: Context, path: str, key: str) -> list[dict[str, Any]]:
    """Ids and names of one hierarchy level, kept for a short time per connection: paging or
    searching a Space of thousands of lists reads it from ClickUp once, not once a page."""
    where = f"{settings.CLICKUP_API_URL}|{getattr(ctx.connection, 'pk', '')}|{path}"
    cache_key = "hub:clickup:level:" + hashlib.sha256(where.encode()).hexdigest()
    found = cache.get(cache_key)
    if found is None:
        with ctx.integration.errors():
            found = [_trim(item) for item in ctx.client().get(path).get(key) or []]
        cache.set(cache_key, found, getattr(settings, "CHOICES_CACHE_SECONDS", 60))
    return found


def _id(value: Any) -> str:
    return str(value or "").strip()


def space_choices(ctx: Context, search: str, page: str | None) -> ChoicePage:
    spaces = _get(ctx, f"team/{_id(ctx.config.get('workspace'))}/space", "spaces")
    return paged(
        [Choice(str(s["id"]), str(s.get("name") or s["id"])) for s in spaces], search, page
    )


def folder_choices(ctx: Context, search: str, page: str | None) -> ChoicePage:
    folders = _get(ctx, f"space/{_id(ctx.config.get('space'))}/folder", "folders")
    choices = [Choice(NO_FOLDER, str(_("No folder (lists directly in the Space)")))]
    choices += [Choice(str(f["id"]), str(f.get("name") or f["id"])) for f in folders]
    return paged(choices, search, page)


def list_choices(ctx: Context, search: str, page: str | None) -> ChoicePage:
    folder = _id(ctx.config.get("folder"))
    if folder in ("", NO_FOLDER):
        lists = _get(ctx, f"space/{_id(ctx.config.get('space'))}/list", "lists")
    else:
        lists = _get(ctx, f"folder/{folder}/list", "lists")
    return paged(
        [Choice(str(li["id"]), str(li.get("name") or li["id"])) for li in lists], search, page
    )


def _space_lists(ctx: Context, space: dict[str, Any]) -> list[Choice]:
    """Every list of a Space, labelled "Space / Folder / List" (folderless ones first)."""
    name = str(space.get("name") or space["id"])
    choices = [
        Choice(str(li["id"]), f"{name} / {li.get('name') or li['id']}")
        for li in _get(ctx, f"space/{space['id']}/list", "lists")
    ]
    for folder in _get(ctx, f"space/{space['id']}/folder", "folders"):
        choices += [
            Choice(str(li["id"]), f"{name} / {folder.get('name')} / {li.get('name') or li['id']}")
            for li in folder.get("lists") or []
        ]
    return choices


def workspace_list_choices(ctx: Context, search: str, page: str | None) -> ChoicePage:
    """The lists of a whole Workspace. ``page`` is "<space index>:<offset in it>"."""
    space_at, _sep, skip = (page or "0:0").partition(":")
    first, start = offset(space_at), offset(skip)
    spaces = _get(ctx, f"team/{_id(ctx.config.get('workspace'))}/space", "spaces")
    needle = (search or "").strip().lower()
    found: list[Choice] = []
    for index in range(first, min(len(spaces), first + SPACES_PER_REQUEST)):
        matching = [c for c in _space_lists(ctx, spaces[index]) if needle in c.label.lower()]
        matching = matching[start if index == first else 0 :]
        room = PAGE_SIZE - len(found)
        if len(matching) > room:
            taken = (start if index == first else 0) + room
            return ChoicePage(found + matching[:room], f"{index}:{taken}")
        found += matching
    last = min(len(spaces), first + SPACES_PER_REQUEST)
    return ChoicePage(found, f"{last}:0" if last < len(spaces) else None)


def status_choices(ctx: Context, search: str, page: str | None) -> ChoicePage:
    with ctx.integration.errors():
        found = ctx.client().get(f"list/{_id(ctx.config.get('list'))}")
    statuses = [str(s.get("status")) for s in found.get("statuses") or [] if s.get("status")]
    return paged([Choice(s, s) for s in statuses], search, page)


def picker_fields(list_help: Any) -> tuple[Field, ...]:
    """The chained pickers that end in a list: Workspace, Space, Folder, List. Only the list
    is sent to ClickUp; the others narrow the picker (and may be left out of a file)."""
    return (
        Field(
            WORKSPACE.key,
            WORKSPACE.label,
            kind="choice",
            help=WORKSPACE.help,
            dynamic_choices=WORKSPACE.dynamic_choices,
        ),
        Field(
            "space",
            _("Space"),
            kind="choice",
            dynamic_choices=space_choices,
            depends_on=("workspace",),
        ),
        Field(
            "folder",
            _("Folder"),
            kind="choice",
            default=NO_FOLDER,
            help=_("Optional: a list may sit directly in the Space."),
            dynamic_choices=folder_choices,
            depends_on=("space",),
        ),
        Field(
            "list",
            _("List"),
            kind="choice",
            required=True,
            help=list_help,
            dynamic_choices=list_choices,
            depends_on=("space", "folder"),
        ),
    )


STATUS = Field(
    "status",
    _("Status"),
    kind="choice",
    help=_("A status of the chosen list; empty for its first."),
    dynamic_choices=status_choices,
    depends_on=("list",),
)
