"""Which Notion data source a step means, and its property schema.

Since API version 2025-09-03 a database holds one or more data sources; the schema lives on
the data source, and rows are created in and queried from it. A member picks a data source
from the list (its id), or pastes a link: a database link (``…/Tasks-<id>?v=<view>``, the
view is ignored), a data source id, or a ``collection://<id>`` address. The id is tried as a
data source first (the picker's case, one call that also brings the schema), then as a
database, whose only data source is used."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.utils.translation import gettext as _
from notion_client.errors import APIErrorCode, APIResponseError

from integrations.base import Choice, ChoicePage, Context, IntegrationError
from integrations.notion.calls import call, page_id
from integrations.notion.content import plain

_ID = re.compile(r"([0-9a-fA-F]{8}-?(?:[0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12})")
PICKER_PAGE = 100


@dataclass(frozen=True)
class Source:
    """A data source: its id, title and schema (property name → Notion's property object)."""

    id: str
    title: str
    properties: dict[str, dict[str, Any]]
    url: str = ""

    def property(self, key: str) -> dict[str, Any] | None:
        """A property by name, or by its id (Notion's ids survive a rename)."""
        found = self.properties.get(key)
        if found is not None:
            return found
        return next((p for p in self.properties.values() if p.get("id") == key), None)

    def title_property(self) -> str:
        return next((n for n, p in self.properties.items() if p.get("type") == "title"), "")


def not_shared() -> str:
    return _(
        "The Notion database isn't shared with Toolstack — open it in Notion, ⋯ → "
        "Connections, add Toolstack."
    )


def source_id_in(value: Any) -> str:
    """The dashed id in a picked value or a pasted link; the ``?v=`` view id is ignored."""
    text = str(value or "").strip()
    candidate = text
    if "://" in text or text.startswith(("www.", "notion.so/")):
        parts = urlsplit(text if "://" in text else f"https://{text}")
        candidate = parts.netloc if parts.scheme == "collection" else parts.path
        candidate = candidate.rstrip("/").rsplit("/", 1)[-1]
    found = _ID.findall(candidate)
    if not found:
        raise IntegrationError(
            _(
                "“%(value)s” is not a Notion database. Choose one from the list, or open the "
                "database in Notion, choose ⋯ → Copy link, and paste that link here."
            )
            % {"value": text or "?"},
            permanent=True,
        )
    return str(uuid.UUID(found[-1].replace("-", "")))


def _retrieve(ctx: Context, method: Any, oid: str) -> dict[str, Any] | None:
    """The object, or None when Notion does not know it (or it is not shared)."""
    with ctx.integration.errors():
        try:
            return method(oid)
        except APIResponseError as exc:
            if exc.code == APIErrorCode.ObjectNotFound:
                return None
            if exc.code == APIErrorCode.ValidationError:
                return None  # not an id of this kind
            raise


def resolve(ctx: Context, value: Any) -> Source:
    """The data source ``value`` names, with its schema."""
    oid = source_id_in(value)
    client = ctx.client()
    found = _retrieve(ctx, lambda i: client.data_sources.retrieve(data_source_id=i), oid)
    if found is None:
        database = _retrieve(ctx, lambda i: client.databases.retrieve(database_id=i), oid)
        if database is None:
            raise IntegrationError(not_shared(), permanent=True)
        sources = database.get("data_sources") or []
        if len(sources) != 1:
            raise IntegrationError(
                _(
                    "The Notion database “%(title)s” holds %(count)s data sources: choose the "
                    "one you mean from the list."
                )
                % {"title": plain(database.get("title") or []), "count": len(sources)},
                permanent=True,
            )
        found = call(ctx, client.data_sources.retrieve, data_source_id=sources[0]["id"])
    return Source(
        id=found["id"],
        title=plain(found.get("title") or []),
        properties=found.get("properties") or {},
        url=found.get("url") or "",
    )


def data_source_choices(ctx: Context, search: str, page: str | None) -> ChoicePage:
    """The data sources shared with Toolstack, searched by title at Notion, one search call
    (100 results) per request."""
    params: dict[str, Any] = {
        "filter": {"property": "object", "value": "data_source"},
        "page_size": PICKER_PAGE,
    }
    if search.strip():
        params["query"] = search.strip()
    if page:
        params["start_cursor"] = page
    answer = call(ctx, ctx.client().search, **params)
    choices = [
        Choice(item["id"], plain(item.get("title") or []) or _("Untitled"))
        for item in answer.get("results") or []
    ]
    return ChoicePage(choices, answer.get("next_cursor") if answer.get("has_more") else None)


def of_page(ctx: Context, page: Any) -> Source:
    """The data source a database row (a page) belongs to."""
    found = call(ctx, ctx.client().pages.retrieve, page_id=page_id(page))
    parent = found.get("parent") or {}
    if not parent.get("data_source_id"):
        raise IntegrationError(
            _("That Notion page is not a row of a database: choose a page inside a database."),
            permanent=True,
        )
    return resolve(ctx, parent["data_source_id"])


def property_choices(ctx: Context, search: str, page: str | None) -> ChoicePage:
    """The chosen data source's properties by name (one or two calls)."""
    chosen = resolve(ctx, ctx.config.get("database"))
    needle = search.strip().lower()
    return ChoicePage(
        [Choice(name, name) for name in chosen.properties if needle in name.lower()], None
    )
