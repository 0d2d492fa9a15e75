"""What the database actions share: a step's property values as the request Notion takes,
and the request as a preview shows it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from integrations.base import Context, IntegrationError
from integrations.notion import values
from integrations.notion.calls import call
from integrations.notion.filters import unknown_property
from integrations.notion.people import People
from integrations.notion.schema import RESERVED
from integrations.notion.sources import Source


def _given(value: Any) -> bool:
    return value is not None and value != "" and value != []


def property_values(ctx: Context, source: Source, people: People) -> dict[str, Any]:
    """The Notion ``properties`` for every property value in the step's config (keys other
    than the step's own fields); a key that names no property is refused."""
    out: dict[str, Any] = {}
    for key, value in ctx.config.items():
        if key in RESERVED or not _given(value):
            continue
        spec = source.property(key)
        if spec is None:
            raise unknown_property(source, key)
        name = spec["name"]
        if spec.get("type") not in values.WRITABLE:
            raise IntegrationError(
                _("“%(name)s” is filled in by Notion (a %(type)s property) and cannot be set.")
                % {"name": name, "type": spec.get("type")},
                permanent=True,
            )
        out[name] = values.encode(
            name, spec, value, timezone=ctx.timezone or "UTC", person=people.id_for
        )
    return out


def request(method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """A request as notion-client sends it, the bearer token left out."""
    return {
        "method": method,
        "url": settings.NOTION_API_URL.rstrip("/") + path,
        "headers": {"Notion-Version": settings.NOTION_VERSION},
        "body": body,
    }


def create(ctx: Context, source: Source, properties: dict[str, Any]) -> dict[str, Any]:
    parent = {"type": "data_source_id", "data_source_id": source.id}
    return call(ctx, ctx.client().pages.create, parent=parent, properties=properties)
