"""The Notion polls — a new row, a changed row — called as the hub calls them, against a fake
whose page times are minute-truncated: the first poll fires nothing old, each row fires once
even when hundreds share one minute, a row Notion indexes late still fires inside the overlap
window, Test trigger shows the newest rows without moving the cursor."""

from __future__ import annotations

from datetime import timedelta

import pytest

from integrations import registry
from integrations.base import IntegrationError, PollRequest
from integrations.notion import triggers
from tests.notion_helpers import conn, context, fake_notion, run

__all__ = ["conn", "fake_notion"]
pytestmark = pytest.mark.django_db


class Hub:
    """What the hub keeps between polls: the cursor and the ids already fired."""

    def __init__(self, conn, key, limit=100, **config):
        self.trigger = registry.get("notion").trigger(key)
        self.ctx = context(conn, **config)
        self.cursor, self.seen, self.limit, self.fired = None, set(), limit, []

    def poll(self, mode="poll"):
        request = PollRequest(self.cursor, self.limit, frozenset(self.seen), mode)
        result = self.trigger.poll(self.ctx, request)
        if mode != "test":
            self.cursor = result.cursor
            self.seen |= {i.id for i in result.items}
            self.fired += result.items
        return result


@pytest.fixture
def tasks(fake_notion):
    _db, ds_id = fake_notion.add_database(
        "Tasks",
        {"Name": "title", "Stage": ("status", ["Todo", "Doing", "Done"]), "Points": "number"},
    )
    return ds_id


def add(fake, ds_id, name, stage="Todo"):
    return fake.add_page(ds_id, name, {"Stage": {"status": {"name": stage}}})


def test_the_first_poll_fires_nothing_old_then_each_new_row_once(conn, fake_notion, tasks):
    for i in range(3):
        add(fake_notion, tasks, f"old {i}")
    hub = Hub(conn, "new_database_item", database=tasks)
    seeded = hub.poll("seed")
    assert seeded.items == [] and seeded.cursor["since"]
    # New rows in the very same minute as the old ones: only the new fire.
    first = add(fake_notion, tasks, "new 1")
    second = add(fake_notion, tasks, "new 2", stage="Done")
    fake_notion.log.clear()
    result = hub.poll()
    assert [c.route for c in fake_notion.calls()] == ["data_sources.query"], "one call a poll"
    assert [i.id for i in result.items] == [first["id"], second["id"]]
    assert result.more is False
    data = result.items[1].data
    assert data["Name"] == "new 2" and data["Stage"] == "Done" and data["Points"] is None
    assert data["id"] == second["id"] and data["url"] == second["url"]
    assert data["created_time"] == second["created_time"] and data["last_edited_time"]
    assert hub.poll().items == [], "nothing fires twice"
    fake_notion.advance(minutes=1)
    later = add(fake_notion, tasks, "later")
    before = hub.cursor["since"]
    assert [i.id for i in hub.poll().items] == [later["id"]]
    assert hub.cursor["since"] == later["created_time"] > before
    query = fake_notion.calls("data_sources.query")[-1]
    since = triggers._parse(before) - triggers.OVERLAP
    assert query.body["filter"] == {
        "timestamp": "created_time",
        "created_time": {"on_or_after": triggers._format(since)},
    }
    assert query.body["sorts"] == [{"timestamp": "created_time", "direction": "ascending"}]


def test_hundreds_of_rows_in_one_minute_fire_once_each_over_bounded_polls(conn, fake_notion, tasks):
    hub = Hub(conn, "new_database_item", limit=100, database=tasks)
    hub.poll("seed")
    made = [add(fake_notion, tasks, f"burst {i:03d}")["id"] for i in range(250)]
    assert len({fake_notion.pages[p]["created_time"] for p in made}) == 1, "one shared minute"
    sizes, queries = [], []
    while True:
        before = len(fake_notion.calls("data_sources.query"))
        result = hub.poll()
        sizes.append((len(result.items), result.more))
        queries.append(len(fake_notion.calls("data_sources.query")) - before)
        if not result.more:
            break
    assert sizes == [(100, True), (100, True), (50, False)]
    assert [i.id for i in hub.fired] == made, "oldest first, each once"
    # Each poll goes on from the page the last one stopped in, not from the minute's start.
    assert queries == [2, 2, 1]
    assert hub.poll().items == []


def test_a_saved_page_position_notion_refuses_falls_back_to_the_window(conn, fake_notion, tasks):
    hub = Hub(conn, "new_database_item", limit=100, database=tasks)
    hub.poll("seed")
    made = [add(fake_notion, tasks, f"burst {i:03d}")["id"] for i in range(150)]
    assert hub.poll().more is True
    # The row the saved position points at is gone: Notion refuses the start_cursor.
    del fake_notion.pages[hub.cursor["resume"]["cursor"]]
    rest = hub.poll()
    assert rest.more is False
    assert len(hub.fired) == 149 and len({i.id for i in hub.fired}) == 149
    assert {i.id for i in hub.fired} <= set(made)


def test_a_row_indexed_late_inside_the_overlap_window_still_fires(conn, fake_notion, tasks):
    hub = Hub(conn, "new_database_item", database=tasks)
    hub.poll("seed")
    fake_notion.advance(minutes=5)
    add(fake_notion, tasks, "on time")
    hub.poll()
    # Notion lists a row created two minutes before the newest one only now.
    late = add(fake_notion, tasks, "late")
    stamp = triggers._parse(hub.cursor["since"]) - timedelta(minutes=2)
    fake_notion.pages[late["id"]]["created_time"] = triggers._format(stamp)
    assert [i.id for i in hub.poll().items] == [late["id"]]
    # Beyond the window it would be missed: the window is the documented bound.
    too_late = add(fake_notion, tasks, "too late")
    stamp = triggers._parse(hub.cursor["since"]) - timedelta(minutes=10)
    fake_notion.pages[too_late["id"]]["created_time"] = triggers._format(stamp)
    assert hub.poll().items == []


def test_a_repeated_poll_after_a_crash_returns_the_same_rows_and_seen_ids_skip_them(
    conn, fake_notion, tasks
):
    hub = Hub(conn, "new_database_item", database=tasks)
    hub.poll("seed")
    cursor = hub.cursor
    rows = [add(fake_notion, tasks, f"r{i}")["id"] for i in range(3)]
    first = hub.trigger.poll(hub.ctx, PollRequest(cursor, 100, frozenset(), "poll"))
    again = hub.trigger.poll(hub.ctx, PollRequest(cursor, 100, frozenset(), "poll"))
    assert [i.id for i in first.items] == [i.id for i in again.items] == rows
    skipped = hub.trigger.poll(hub.ctx, PollRequest(cursor, 100, frozenset(rows), "poll"))
    assert skipped.items == []


def test_test_trigger_shows_the_newest_rows_without_moving_the_cursor(conn, fake_notion, tasks):
    hub = Hub(conn, "new_database_item", limit=100, database=tasks)
    hub.poll("seed")
    cursor = hub.cursor
    rows = []
    for i in range(8):
        rows.append(add(fake_notion, tasks, f"t{i}")["id"])
        fake_notion.advance(minutes=1)
    shown = hub.poll("test")
    assert [i.id for i in shown.items] == rows[::-1][:5], "the newest few, newest first"
    assert shown.cursor == cursor and hub.cursor == cursor
    assert shown.items[0].data["Name"] == "t7"
    assert [i.id for i in hub.poll().items] == rows, "the test fired nothing"


def test_a_changed_row_fires_once_per_change_of_the_watched_property(conn, fake_notion, tasks):
    row = add(fake_notion, tasks, "Fix login")
    hub = Hub(conn, "updated_database_item", database=tasks, properties=["Stage"])
    hub.poll("seed")
    run(conn, "update_database_item", page=row["id"], Stage="Doing")
    [changed] = hub.poll().items
    assert changed.id.startswith(row["id"] + ":") and changed.data["Stage"] == "Doing"
    assert hub.poll().items == [], "the same change fires once"
    run(conn, "update_database_item", page=row["id"], Name="Fix login on Safari")
    assert hub.poll().items == [], "an edit elsewhere in the row does not fire"
    fake_notion.advance(minutes=1)
    run(conn, "update_database_item", page=row["id"], Stage="Done")
    [done] = hub.poll().items
    assert done.data["Stage"] == "Done" and done.id != changed.id
    query = fake_notion.calls("data_sources.query")[-1]
    assert query.body["sorts"] == [{"timestamp": "last_edited_time", "direction": "ascending"}]


def test_without_watched_properties_any_change_fires(conn, fake_notion, tasks):
    row = add(fake_notion, tasks, "Fix login")
    hub = Hub(conn, "updated_database_item", database=tasks)
    hub.poll("seed")
    assert hub.poll().items == []
    run(conn, "update_database_item", page=row["id"], Points=3)
    [changed] = hub.poll().items
    assert changed.data["Points"] == 3
    new = add(fake_notion, tasks, "Brand new")
    assert [i.data["id"] for i in hub.poll().items] == [new["id"]], "a new row is a change"


def test_errors_a_member_can_act_on(conn, fake_notion, tasks):
    hub = Hub(conn, "updated_database_item", database=tasks, properties=["Stat"])
    with pytest.raises(IntegrationError) as caught:
        hub.poll("seed")
    assert caught.value.permanent and "no property “Stat”" in caught.value.message
    hidden = Hub(conn, "new_database_item", database="1f0d872b594c80c1a3e80037abcdef01")
    with pytest.raises(IntegrationError) as caught:
        hidden.poll("seed")
    assert caught.value.permanent and "⋯ → Connections, add Toolstack" in caught.value.message
    hub = Hub(conn, "new_database_item", database=tasks)
    hub.poll("seed")
    fake_notion.rate_limit("data_sources.query", retry_after=4)
    with pytest.raises(IntegrationError) as caught:
        hub.poll()
    assert caught.value.retryable and caught.value.retry_after == 4


def test_outputs_name_the_databases_properties(conn, fake_notion, tasks):
    trigger = registry.get("notion").trigger("new_database_item")
    keys = [o.key for o in trigger.outputs_for(context(conn, database=tasks))]
    assert keys == ["id", "url", "created_time", "last_edited_time", "Name", "Stage", "Points"]


def test_rows_edited_before_publishing_are_noted_so_other_edits_never_fire(
    conn, fake_notion, tasks
):
    old = add(fake_notion, tasks, "Written last week")
    fake_notion.advance(minutes=60 * 24 * 7)
    hub = Hub(conn, "updated_database_item", database=tasks, properties=["Stage"])
    hub.poll("seed")
    assert old["id"] in hub.cursor["known"]
    run(conn, "update_database_item", page=old["id"], Name="Renamed")
    assert hub.poll().items == []
    run(conn, "update_database_item", page=old["id"], Stage="Done")
    assert [i.data["Stage"] for i in hub.poll().items] == ["Done"]
