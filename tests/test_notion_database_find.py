"""Finding Notion database rows (filter rows per property type, sort, limit over several
pages), finding or adding a row so a repeated trigger never makes two, and the live pickers —
data sources, properties, people — through the editor's choices endpoint."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.notion_helpers import TASKS_SCHEMA, conn, fails, fake_notion, preview, run

__all__ = ["conn", "fake_notion"]
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def tasks(fake_notion):
    _db, ds_id = fake_notion.add_database("Tasks", TASKS_SCHEMA)
    return ds_id


def add(fake, ds_id, name, **props):
    return fake.add_page(ds_id, name, props)


def names(out):
    return [item["Name"] for item in out["items"]]


def test_filter_rows_per_property_type(conn, fake_notion, tasks):
    ada = fake_notion.add_user("Ada", "ada@acme.test")
    add(fake_notion, tasks, "Login bug", Points={"number": 5}, Stage={"status": {"name": "Done"}},
        Tags={"multi_select": [{"name": "bug"}]}, Urgent={"checkbox": True},
        Owner={"people": [{"id": ada["id"]}]}, Due={"date": {"start": "2026-06-05"}})  # fmt: skip
    add(fake_notion, tasks, "Docs", Points={"number": 1}, Tags={"multi_select": [{"name": "ui"}]},
        Due={"date": {"start": "2026-06-20"}})  # fmt: skip
    add(fake_notion, tasks, "Billing bug", Points={"number": 8}, Urgent={"checkbox": True})

    def find(*rows, **extra):
        filters = [dict(zip(("property", "operator", "value"), r, strict=True)) for r in rows]
        return run(conn, "find_database_items", database=tasks, filters=filters, **extra)

    assert names(find(("Name", "contains", "bug"))) == ["Login bug", "Billing bug"]
    assert names(find(("Points", "greater_than", "4"), ("Urgent", "equals", "yes"))) == [
        "Login bug",
        "Billing bug",
    ]
    assert names(find(("Stage", "equals", "done"))) == ["Login bug"]
    assert names(find(("Tags", "contains", "ui"))) == ["Docs"]
    assert names(find(("Owner", "contains", "ada@acme.test"))) == ["Login bug"]
    assert names(find(("Due", "on_or_after", "2026-06-10"))) == ["Docs"]
    assert names(find(("Due", "is_empty", ""))) == ["Billing bug"]
    out = find(sort=[{"property": "Points", "direction": "descending"}])
    assert names(out) == ["Billing bug", "Login bug", "Docs"] and out["count"] == 3
    assert out["items"][1]["Points"] == 5 and out["items"][1]["Stage"] == "Done"
    assert out["items"][1]["Owner"][0]["email"] == "ada@acme.test"
    assert {"id", "url", "created_time", "last_edited_time"} <= set(out["items"][0])
    [last] = fake_notion.calls("data_sources.query")[-1:]
    assert last.body["sorts"] == [{"property": "Points", "direction": "descending"}]


def test_a_filter_that_does_not_fit_the_property_says_what_does(conn, fake_notion, tasks):
    error = fails(
        conn,
        "find_database_items",
        database=tasks,
        filters=[{"property": "Points", "operator": "contains", "value": "1"}],
    )
    assert error.permanent and "“Points” cannot be filtered with “contains”" in error.message
    assert "greater_than" in error.message
    error = fails(
        conn, "find_database_items", database=tasks, filters=[{"property": "Pints", "value": "1"}]
    )
    assert "has no property “Pints”" in error.message and "Points" in error.message
    assert fake_notion.calls("data_sources.query") == []


def test_the_limit_pages_through_start_cursor_and_stops(conn, fake_notion, tasks):
    for i in range(250):
        add(fake_notion, tasks, f"Task {i:03d}")
    out = run(conn, "find_database_items", database=tasks, limit=230)
    assert out["count"] == 230 and names(out)[:2] == ["Task 000", "Task 001"]
    assert names(out)[-1] == "Task 229"
    queries = fake_notion.calls("data_sources.query")
    assert [q.body["page_size"] for q in queries] == [100, 100, 30]
    assert "start_cursor" not in queries[0].body and queries[2].body["start_cursor"]
    everything = run(conn, "find_database_items", database=tasks, limit=1000)
    assert everything["count"] == 250
    assert fails(conn, "find_database_items", database=tasks, limit=5000).permanent


def test_find_or_create_twice_makes_one_row(conn, fake_notion, tasks):
    config = {"database": tasks, "match_property": "Contact", "Contact": "kim@acme.test",
              "Name": "Kim", "Points": 2}  # fmt: skip
    first = run(conn, "find_or_create_database_item", **config)
    assert first["created"] is True and first["found"] is False
    # The trigger delivered again (or the engine retrying after the create went through).
    again = run(conn, "find_or_create_database_item", **{**config, "Points": 9})
    assert again["found"] is True and again["created"] is False
    assert again["id"] == first["id"] and again["Points"] == 2
    assert len(fake_notion.calls("pages.create")) == 1
    [_one, second] = fake_notion.calls("data_sources.query")
    assert second.body["filter"] == {"property": "Contact", "email": {"equals": "kim@acme.test"}}
    rows = [p for p in fake_notion.pages.values() if p["parent"].get("data_source_id") == tasks]
    assert len(rows) == 1


def test_find_or_create_previews_the_create_or_says_nothing_is_sent(conn, fake_notion, tasks):
    config = {"database": tasks, "match_property": "Name", "Name": "Kim"}
    shown = preview(conn, "find_or_create_database_item", **config)
    assert fake_notion.calls("pages.create") == []
    run(conn, "find_or_create_database_item", **config)
    [sent] = fake_notion.calls("pages.create")
    assert shown["body"] == sent.body and shown["url"] == fake_notion.origin + sent.path
    assert preview(conn, "find_or_create_database_item", **config)["requests"] == []
    error = fails(conn, "find_or_create_database_item", database=tasks, match_property="Name")
    assert error.permanent and "Fill in “Name”" in error.message


# -- pickers through GET /recipes/choices/


def ask(client, connection, field, action="create_database_item", **params):
    query = {"app": "notion", "action": action, "field": field, "connection": connection.pk}
    return client.get("/recipes/choices/", {**query, **params})


def test_the_database_picker_pages_and_searches_at_notion(member_client, conn, fake_notion):
    for i in range(230):
        fake_notion.add_database(f"Board {i:03d}")
    fake_notion.add_database("Hiring pipeline")
    first = ask(member_client, conn, "database").json()
    assert len(first["choices"]) == 100 and first["next_page"]
    second = ask(member_client, conn, "database", page=first["next_page"]).json()
    third = ask(member_client, conn, "database", page=second["next_page"]).json()
    assert len(third["choices"]) == 31 and third["next_page"] is None
    values = {c["value"] for c in first["choices"] + second["choices"] + third["choices"]}
    assert len(values) == 231
    assert len(fake_notion.calls("search")) == 3, "one Notion call per page of choices"
    found = ask(member_client, conn, "database", search="hiring").json()
    assert [c["label"] for c in found["choices"]] == ["Hiring pipeline"]
    assert fake_notion.calls("search")[-1].body["query"] == "hiring"


def test_property_and_people_pickers(member_client, conn, fake_notion, tasks):
    answer = ask(
        member_client, conn, "filters.property", action="find_database_items",
        **{"config.database": tasks},
    ).json()  # fmt: skip
    assert [c["value"] for c in answer["choices"]] == list(TASKS_SCHEMA)
    waiting = ask(member_client, conn, "match_property", action="find_or_create_database_item")
    assert waiting.json()["waiting_for"] == "database"
    for i in range(150):
        fake_notion.add_user(f"Person {i:03d}", f"p{i}@acme.test")
    fake_notion.add_user("Grace Hopper", "grace@acme.test")
    people = ask(member_client, conn, "Owner", search="grace", **{"config.database": tasks})
    assert people.status_code == 200
    assert people.json()["choices"] == [
        {"value": list(fake_notion.users)[-1], "label": "Grace Hopper (grace@acme.test)"}
    ]
    assert len(fake_notion.calls("users.list")) == 2


def test_people_by_email_read_every_page_of_members(conn, fake_notion, tasks):
    for i in range(240):
        fake_notion.add_user(f"Person {i:03d}", f"p{i}@acme.test")
    out = run(conn, "create_database_item", database=tasks, Owner="p239@acme.test, p0@acme.test")
    assert [p["email"] for p in out["Owner"]] == ["p239@acme.test", "p0@acme.test"]
    listed = fake_notion.calls("users.list")
    assert len(listed) == 3, "the member list is read once per step, 100 at a time"
    fake_notion.rate_limit("users.list", retry_after=3)
    error = fails(conn, "create_database_item", database=tasks, Owner="p1@acme.test")
    assert error.retryable and error.retry_after == 3


def test_later_steps_map_row_properties_by_name(workspace, conn, fake_notion, tasks):
    from hub.engine.executor import execute
    from hub.engine.models import Run
    from hub.engine.runs import start_run
    from integrations import registry
    from tests.conftest import make_recipe
    from tests.notion_helpers import context

    add(fake_notion, tasks, "Ship it", Stage={"status": {"name": "Done"}})
    recipe = make_recipe(
        workspace,
        [
            {"key": "find", "app": "notion", "action": "find_database_items",
             "connection": "Acme Notion", "config": {"database": tasks, "limit": 5}},
            {"key": "say", "app": "builtin", "action": "formatter",
             "config": {"operation": "text_upper",
                        "input": "{{ steps.find.items.0.Name }}: {{ steps.find.items.0.Stage }}"}},
        ],
    )  # fmt: skip
    run = start_run(recipe, Run.Source.MANUAL, {})
    assert execute(run.id) == "succeeded"
    assert run.steps.get(key="say").output["output"] == "SHIP IT: DONE"
    # The data picker lists each row's properties once the database is chosen.
    action = registry.get("notion").action("find_database_items")
    [items, _count] = action.outputs_for(context(conn, database=tasks))
    assert [c.key for c in items.children][:5] == [
        "id",
        "url",
        "created_time",
        "last_edited_time",
        "Name",
    ]
    assert "Stage" in [c.key for c in items.children]


def test_a_provided_picker_for_a_database_not_shared_answers_what_to_do(
    member_client, conn, fake_notion
):
    answer = ask(
        member_client, conn, "Owner", **{"config.database": "1f0d872b594c80c1a3e80037abcdef01"}
    )
    assert answer.status_code == 502
    assert "⋯ → Connections, add Toolstack" in answer.json()["error"]
    assert ask(member_client, conn, "Owner").status_code == 404, "no database chosen yet"
