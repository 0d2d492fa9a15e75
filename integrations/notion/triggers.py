"""Notion triggers: a new row in a database, a changed row.

Both poll ``POST /v1/data_sources/{id}/query`` with a ``created_time`` (new) or
``last_edited_time`` (changed) filter ``on_or_after`` the cursor minus ``OVERLAP``, sorted
oldest first, reading every page of results. Notion truncates these timestamps to the
minute and may index a page a little late, so each poll looks back over the overlap window
and skips what already fired: the hub's ``seen`` ids, and the rows the cursor's ``known``
map holds as they are.

Item ids: the page id for new rows; for changed rows the page id plus a hash of the watched
properties' values (``properties``, or every property when empty), so an edit elsewhere in
the row never fires and the same change is never fired twice.

Cursor (JSON): ``{"since": newest timestamp processed, "known": {page id: its timestamp
(new rows) or its watched values' hash (changed rows)}, "source": the data source id,
"resume": where a poll that reached its limit stopped}`` — a poll spends one query per page
of rows and no lookup. The first poll (``seed``) fires nothing: it notes the rows inside the
overlap window (new rows; fired rows are then in the hub's ``seen``), or the watched values
of the ``MAX_KNOWN`` rows edited last (changed rows; ``known`` keeps the last ``MAX_KNOWN``
rows). A row whose values were never noted fires on its first edit after publishing, as
what changed cannot be told."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils.translation import gettext_lazy as _

from integrations.base import (
    Context,
    Field,
    IntegrationError,
    PollItem,
    PollRequest,
    PollResult,
    Trigger,
)
from integrations.notion import schema, sources
from integrations.notion.calls import call
from integrations.notion.database import DATABASE_FIELD, ROW_OUTPUTS, ROW_SAMPLE
from integrations.notion.filters import unknown_property
from integrations.notion.values import decode, plain_values

OVERLAP = timedelta(minutes=3)
PAGE_SIZE = 100
TEST_ITEMS = 5
MAX_KNOWN = 1000
# A seed looks at most this many rows back to note those inside the overlap window.
SEED_PAGES = 5


def _format(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


class Watch:
    """One trigger's poll: which timestamp it follows and how it names an item."""

    def __init__(self, ctx: Context, stamp: str, source_id: str | None = None) -> None:
        """``source_id``: the data source a seed resolved (kept in the cursor), so a poll
        spends one query and no lookup; the watched names were checked then."""
        self.ctx, self.stamp = ctx, stamp
        self.watched: list[str] = []
        if stamp == "last_edited_time":
            self.watched = [str(n) for n in ctx.config.get("properties") or [] if n]
        if source_id:
            self.source = sources.Source(source_id, "", {})
            return
        self.source = sources.resolve(ctx, ctx.config.get("database"))
        for name in self.watched:
            if self.source.property(name) is None:
                raise unknown_property(self.source, name)

    def item_id(self, page: dict[str, Any]) -> str:
        if self.stamp == "created_time":
            return page["id"]
        props = page.get("properties") or {}
        names = self.watched or sorted(props)
        values = {n: decode(props[n]) for n in names if n in props}
        digest = hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode())
        return f"{page['id']}:{digest.hexdigest()[:16]}"

    def noted(self, known: dict[str, Any], page: dict[str, Any], item: str) -> bool:
        """Whether ``known`` holds this row as it is: a new row noted at the seed, or a
        changed row whose watched values were last seen with this hash."""
        if self.stamp == "created_time":
            return page["id"] in known
        return known.get(page["id"]) == item.rpartition(":")[2]

    def note(self, known: dict[str, Any], page: dict[str, Any], item: str) -> None:
        """Keep the row in ``known``: its timestamp for new rows (pruned with the window),
        the hash of its watched values for changed rows (the newest last)."""
        known.pop(page["id"], None)
        known[page["id"]] = (
            page[self.stamp] if self.stamp == "created_time" else item.rpartition(":")[2]
        )

    def pages(
        self,
        *,
        since: str | None,
        descending: bool = False,
        size: int = PAGE_SIZE,
        max_pages: int | None = None,
        start_cursor: str | None = None,
    ) -> Iterator[tuple[dict[str, Any], str | None]]:
        """Rows in timestamp order, every page of them (or ``max_pages``), each with the
        ``start_cursor`` that fetched its page."""
        client = self.ctx.client()
        body: dict[str, Any] = {
            "sorts": [
                {"timestamp": self.stamp, "direction": "descending" if descending else "ascending"}
            ],
            "page_size": size,
        }
        if since:
            body["filter"] = {"timestamp": self.stamp, self.stamp: {"on_or_after": since}}
        cursor, read = start_cursor, 0
        while True:
            params = {**body, "start_cursor": cursor} if cursor else body
            answer = call(
                self.ctx, client.data_sources.query, data_source_id=self.source.id, **params
            )
            for page in answer.get("results") or []:
                yield page, cursor
            read += 1
            cursor = answer.get("next_cursor") if answer.get("has_more") else None
            if not cursor or (max_pages is not None and read >= max_pages):
                return


def _known(cursor: Any) -> tuple[str | None, dict[str, Any], str | None]:
    if not isinstance(cursor, dict):
        return None, {}, None
    known = cursor.get("known") if isinstance(cursor.get("known"), dict) else {}
    return cursor.get("since"), dict(known), cursor.get("source")


def _pruned(watch: Watch, since: str | None, known: dict[str, Any]) -> dict:
    if watch.stamp == "created_time" and since:
        floor = _format(_parse(since) - OVERLAP)
        return {k: v for k, v in known.items() if str(v) >= floor}
    return dict(list(known.items())[-MAX_KNOWN:])


def _seed(watch: Watch) -> PollResult:
    """Fire nothing; note the rows inside the overlap window of the newest one, and for
    changed rows the watched values of the ``MAX_KNOWN`` rows edited last (a row whose values
    were never noted fires on its first edit, as the hub cannot tell what changed)."""
    known: dict[str, Any] = {}
    since: str | None = None
    changes = watch.stamp == "last_edited_time"
    pages = MAX_KNOWN // PAGE_SIZE if changes else SEED_PAGES
    for page, _at in watch.pages(since=None, descending=True, max_pages=pages):
        stamp = page[watch.stamp]
        since = since or stamp
        if not changes and _parse(stamp) < _parse(since) - OVERLAP:
            break
        watch.note(known, page, watch.item_id(page))
    since = since or _format(datetime.now(UTC).replace(second=0, microsecond=0))
    noted = dict(reversed(known.items()))
    return PollResult([], {"since": since, "known": noted, "source": watch.source.id})


def _test(watch: Watch, request: PollRequest) -> PollResult:
    wanted = max(1, min(request.limit, TEST_ITEMS))
    items = []
    for page, _at in watch.pages(since=None, descending=True, size=wanted, max_pages=1):
        items.append(PollItem(watch.item_id(page), plain_values(page)))
    return PollResult(items, request.cursor, False)


def poll(ctx: Context, request: PollRequest, stamp: str) -> PollResult:
    since, known, source_id = _known(request.cursor)
    if request.mode != "poll" or since is None:
        watch = Watch(ctx, stamp)
        return _test(watch, request) if request.mode == "test" else _seed(watch)
    watch = Watch(ctx, stamp, source_id)
    resume = request.cursor.get("resume")
    resume = resume if isinstance(resume, dict) and resume.get("cursor") else None
    try:
        return _new_rows(watch, request, since, known, resume)
    except IntegrationError:
        if resume is None:
            raise
        # Notion no longer takes the saved start_cursor: read the window from its start.
        return _new_rows(watch, request, since, known, None)


def _new_rows(
    watch: Watch,
    request: PollRequest,
    since: str,
    known: dict[str, Any],
    resume: dict[str, str] | None,
) -> PollResult:
    """Rows from ``since`` minus the overlap, or, when the last poll stopped at its limit,
    from the page it stopped in (``resume``: the same filter and Notion's ``start_cursor``),
    so a burst of rows sharing one minute is read once, not once per poll."""
    stamp = watch.stamp
    start = resume["start"] if resume else _format(_parse(since) - OVERLAP)
    items: list[PollItem] = []
    stopped_at: dict[str, str] | None = None
    more = False
    pages = watch.pages(since=start, start_cursor=resume["cursor"] if resume else None)
    for page, at in pages:
        item = watch.item_id(page)
        if item in request.seen or watch.noted(known, page, item):
            since = max(since, page[stamp])
            continue
        if len(items) == request.limit:
            more = True
            stopped_at = {"start": start, "cursor": at} if at else None
            break
        items.append(PollItem(item, plain_values(page)))
        if stamp == "last_edited_time":  # new rows are covered by the hub's seen ids
            watch.note(known, page, item)
        since = max(since, page[stamp])
    cursor: dict[str, Any] = {
        "since": since,
        "known": _pruned(watch, since, known),
        "source": watch.source.id,
    }
    if stopped_at:
        cursor["resume"] = stopped_at
    return PollResult(items, cursor, more)


def new_database_item(ctx: Context, request: PollRequest) -> PollResult:
    return poll(ctx, request, "created_time")


def updated_database_item(ctx: Context, request: PollRequest) -> PollResult:
    return poll(ctx, request, "last_edited_time")


WATCHED_FIELD = Field(
    "properties",
    _("Only when these change"),
    kind="choice",
    multiple=True,
    dynamic_choices=sources.property_choices,
    depends_on=("database",),
    help=_("Leave empty to start on any change to a row."),
)

NEW_DATABASE_ITEM = Trigger(
    key="new_database_item",
    label=_("New row in a database"),
    help=_(
        "Starts once for each row added to the database, within about a minute. Rows that "
        "were there before the recipe was published do not start it."
    ),
    fields=(DATABASE_FIELD,),
    outputs=ROW_OUTPUTS,
    outputs_provider=schema.provided_outputs,
    sample=ROW_SAMPLE,
    poll=new_database_item,
)

UPDATED_DATABASE_ITEM = Trigger(
    key="updated_database_item",
    label=_("Row changed in a database"),
    help=_(
        "Starts once for each change to a row — or only for changes to the properties you "
        "choose, such as Status. New rows count as a change."
    ),
    fields=(DATABASE_FIELD, WATCHED_FIELD),
    outputs=ROW_OUTPUTS,
    outputs_provider=schema.provided_outputs,
    sample=ROW_SAMPLE,
    poll=updated_database_item,
)

TRIGGERS = {t.key: t for t in (NEW_DATABASE_ITEM, UPDATED_DATABASE_ITEM)}
