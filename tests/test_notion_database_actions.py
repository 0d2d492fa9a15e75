"""Adding and updating Notion database rows through notion-client against the fake: every
writable property type from plain values, dates in the recipe's time zone, people by email,
the database by a pasted link, previews against the request the fake received, and the
errors a member sees (not shared, a wrong value named by its property, 429 + Retry-After)."""

from __future__ import annotations

import pytest

from integrations import registry
from tests.notion_helpers import TASKS_SCHEMA, conn, context, fails, fake_notion, preview, run

__all__ = ["conn", "fake_notion"]
pytestmark = pytest.mark.django_db


@pytest.fixture
def tasks(fake_notion):
    db_id, ds_id = fake_notion.add_database("Tasks", TASKS_SCHEMA)
    return db_id, ds_id


def stored(fake_notion, page_id):
    page = fake_notion.pages[page_id]
    return {name: prop[prop["type"]] for name, prop in page["properties"].items()}


def test_a_row_gets_every_property_type_from_plain_values(conn, fake_notion, tasks):
    _db, ds_id = tasks
    ada = fake_notion.add_user("Ada Lovelace", "ada@acme.test")
    other = fake_notion.add_page(ds_id, "Parent task")
    out = run(
        conn,
        "create_database_item",
        timezone="Asia/Seoul",
        database=ds_id,
        Name="Fix login",
        Notes="Users on Safari cannot sign in.",
        Points="3",
        Priority="high",
        Tags="bug, backend",
        Stage="In progress",
        Due="2026-06-05 18:00",
        Owner=["ADA@acme.test"],
        Urgent="yes",
        Link="https://acme.test/issue/1",
        Contact="ops@acme.test",
        Phone="+82 10 1234 5678",
    )
    values = stored(fake_notion, out["id"])
    assert values["Name"][0]["plain_text"] == "Fix login"
    assert values["Notes"][0]["plain_text"] == "Users on Safari cannot sign in."
    assert values["Points"] == 3
    assert values["Priority"]["name"] == "High"  # the existing option, whatever the case typed
    assert [t["name"] for t in values["Tags"]] == ["bug", "backend"]  # a new option is added
    assert values["Stage"]["name"] == "In progress"
    assert values["Due"]["start"] == "2026-06-05T18:00:00+09:00"
    assert [p["id"] for p in values["Owner"]] == [ada["id"]]
    assert values["Urgent"] is True
    assert values["Link"] == "https://acme.test/issue/1"
    assert values["Contact"] == "ops@acme.test" and values["Phone"] == "+82 10 1234 5678"
    # Outputs: plain values by property name, then the row's own id and link.
    assert out["Name"] == "Fix login" and out["Stage"] == "In progress"
    assert out["Tags"] == ["bug", "backend"] and out["Urgent"] is True
    assert out["Owner"] == [{"id": ada["id"], "name": "Ada Lovelace", "email": "ada@acme.test"}]
    assert out["Due"] == "2026-06-05T18:00:00+09:00"
    assert out["url"] == fake_notion.pages[out["id"]]["url"]
    related = run(
        conn, "create_database_item", database=ds_id, Name="Child", Points=1.5, Urgent=False
    )
    assert stored(fake_notion, related["id"])["Points"] == 1.5
    linked = run(
        conn,
        "update_database_item",
        page=related["url"],
        Name="Child task",
    )
    assert linked["Name"] == "Child task"
    assert other["id"]


def test_a_date_alone_stays_a_date_and_a_range_has_an_end(conn, fake_notion, tasks):
    _db, ds_id = tasks
    out = run(conn, "create_database_item", database=ds_id, Name="Trip", Due="2026-06-05")
    assert stored(fake_notion, out["id"])["Due"]["start"] == "2026-06-05"
    out = run(
        conn,
        "create_database_item",
        timezone="America/New_York",
        database=ds_id,
        Name="Offsite",
        Due="2026-06-05 09:00 → 2026-06-06 17:00",
    )
    due = stored(fake_notion, out["id"])["Due"]
    assert due["start"] == "2026-06-05T09:00:00-04:00" and due["end"] == "2026-06-06T17:00:00-04:00"


def test_a_relation_takes_page_links(conn, fake_notion):
    _p, projects = fake_notion.add_database("Projects")
    project = fake_notion.add_page(projects, "Billing")
    _db, ds_id = fake_notion.add_database(
        "Tasks", {"Name": "title", "Project": ("relation", projects)}
    )
    out = run(conn, "create_database_item", database=ds_id, Name="Invoice", Project=project["url"])
    assert stored(fake_notion, out["id"])["Project"] == [{"id": project["id"]}]
    assert out["Project"] == [project["id"]]


def test_a_pasted_database_link_with_a_view_is_resolved_to_its_data_source(
    conn, fake_notion, tasks
):
    db_id, ds_id = tasks
    link = f"https://www.notion.so/acme/{db_id.replace('-', '')}?v=0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    out = run(conn, "create_database_item", database=link, Name="From a link")
    assert fake_notion.pages[out["id"]]["parent"]["data_source_id"] == ds_id
    [create] = fake_notion.calls("pages.create")
    assert create.body["parent"] == {"type": "data_source_id", "data_source_id": ds_id}


def test_a_database_with_two_data_sources_asks_which(conn, fake_notion, tasks):
    db_id, _ds = tasks
    fake_notion.add_data_source(db_id, "Archive")
    error = fails(conn, "create_database_item", database=db_id, Name="x")
    assert error.permanent and "2 data sources" in error.message and "choose" in error.message


def test_a_database_not_shared_says_how_to_share_it(conn, fake_notion):
    error = fails(
        conn, "create_database_item", database="1f0d872b594c80c1a3e80037abcdef01", Name="x"
    )
    assert error.permanent
    assert error.message == (
        "The Notion database isn't shared with Toolstack — open it in Notion, ⋯ → "
        "Connections, add Toolstack."
    )
    assert fake_notion.calls("pages.create") == []


def test_wrong_values_are_refused_naming_the_property(conn, fake_notion, tasks):
    _db, ds_id = tasks
    error = fails(conn, "create_database_item", database=ds_id, Name="x", Points="lots")
    assert error.permanent and error.message.startswith("“Points”: write a number")
    error = fails(conn, "create_database_item", database=ds_id, Name="x", Stage="Blocked")
    assert error.permanent and "“Stage”" in error.message and "Not started" in error.message
    error = fails(conn, "create_database_item", database=ds_id, Name="x", Due="next Friday")
    assert error.permanent and "“Due”" in error.message and "2026-12-01" in error.message
    error = fails(conn, "create_database_item", database=ds_id, Name="x", Stag="Done")
    assert "has no property “Stag” — was it renamed?" in error.message
    error = fails(conn, "create_database_item", database=ds_id, Owner="nobody@acme.test")
    assert "nobody@acme.test" in error.message
    assert fake_notion.calls("pages.create") == []


def test_notions_own_validation_error_names_the_property(conn, fake_notion, tasks):
    _db, ds_id = tasks
    error = fails(
        conn, "create_database_item", database=ds_id, Owner=["1f0d872b594c80c1a3e80037abcdef01"]
    )
    assert error.permanent
    assert error.message.startswith("Notion did not accept the value of “Owner”:")
    [sent] = fake_notion.calls("pages.create")
    assert sent.status == 400


def test_429_is_retried_after_what_notion_said(conn, fake_notion, tasks):
    _db, ds_id = tasks
    fake_notion.rate_limit("pages.create", retry_after=7)
    error = fails(conn, "create_database_item", database=ds_id, Name="x")
    assert error.retryable and error.retry_after == 7
    assert run(conn, "create_database_item", database=ds_id, Name="x")["Name"] == "x"


def test_the_preview_is_the_request_then_sent(conn, fake_notion, tasks):
    _db, ds_id = tasks
    fake_notion.add_user("Ada", "ada@acme.test")
    config = {"database": ds_id, "Name": "Fix", "Due": "2026-06-05 18:00", "Owner": "ada@acme.test"}
    shown = preview(conn, "create_database_item", timezone="Asia/Seoul", **config)
    assert fake_notion.calls("pages.create") == [], "a preview sends nothing"
    assert conn.access_token not in repr(shown)
    run(conn, "create_database_item", timezone="Asia/Seoul", **config)
    [sent] = fake_notion.calls("pages.create")
    assert shown["method"] == "POST" and shown["url"] == fake_notion.origin + sent.path
    assert shown["body"] == sent.body
    assert shown["headers"] == {"Notion-Version": "2025-09-03"}


def test_update_changes_only_the_properties_given(conn, fake_notion, tasks):
    _db, ds_id = tasks
    made = run(conn, "create_database_item", database=ds_id, Name="Fix", Points=3, Stage="Done")
    shown = preview(conn, "update_database_item", page=made["id"], Stage="In progress", Points="")
    out = run(conn, "update_database_item", page=made["id"], Stage="In progress", Points="")
    [sent] = fake_notion.calls("pages.update")
    assert sent.body == {"properties": {"Stage": {"status": {"name": "In progress"}}}}
    assert shown["method"] == "PATCH" and shown["body"] == sent.body
    assert shown["url"] == fake_notion.origin + sent.path
    assert out["Stage"] == "In progress" and out["Points"] == 3 and out["Name"] == "Fix"
    error = fails(conn, "update_database_item", page=made["id"])
    assert error.permanent and "nothing to change" in error.message


def test_update_of_a_page_not_shared(conn, fake_notion, tasks):
    _db, ds_id = tasks
    hidden = fake_notion.add_page(ds_id, "Secret", shared=False)
    error = fails(conn, "update_database_item", page=hidden["id"], Name="x")
    assert error.permanent and "open it in Notion, ⋯ → Connections, add Toolstack" in error.message


def test_the_fields_and_outputs_follow_the_databases_properties(conn, fake_notion, tasks):
    _db, ds_id = tasks
    action = registry.get("notion").action("create_database_item")
    ctx = context(conn, database=ds_id)
    fields = {f.key: f for f in action.fields_provider(ctx)}
    assert list(fields) == list(TASKS_SCHEMA)
    assert fields["Points"].kind == "number" and fields["Urgent"].kind == "bool"
    assert [c.value for c in fields["Stage"].choices] == ["Not started", "In progress", "Done"]
    assert fields["Tags"].multiple and fields["Owner"].dynamic_choices is not None
    assert fields["Due"].kind == "date"
    outputs = {o.key: o for o in action.outputs_for(ctx)}
    assert {"id", "url", "Name", "Stage", "Owner"} <= set(outputs)
    assert [c.key for c in outputs["Owner"].children] == ["id", "name", "email"]
    # Picked from an earlier step, the row's database is not known: no extra fields.
    assert action.fields_provider(context(conn, database="{{ steps.a.id }}")) == []


def test_a_property_named_like_a_step_field_is_keyed_by_its_id(conn, fake_notion):
    _db, ds_id = fake_notion.add_database("Odd", {"Name": "title", "page": "rich_text"})
    spec = fake_notion.data_sources[ds_id]["properties"]["page"]
    action = registry.get("notion").action("create_database_item")
    keys = [f.key for f in action.fields_provider(context(conn, database=ds_id))]
    assert keys == ["Name", spec["id"]]
    out = run(conn, "create_database_item", database=ds_id, Name="x", **{spec["id"]: "text"})
    assert out["page"] == "text"
