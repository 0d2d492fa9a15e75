"""Notion steps in a recipe file: published with the property config names as written, run
by the engine against the fake — a new row in one database becomes a row in another, found
or added, so the same item delivered twice (or a step retried after a 429) makes one row."""

from __future__ import annotations

import pytest
from django.utils import timezone

from hub.engine.executor import execute
from hub.engine.models import Run
from hub.engine.runs import start_run
from integrations import registry
from integrations.base import PollRequest
from tests.conftest import make_recipe
from tests.notion_helpers import conn, context, fake_notion

__all__ = ["conn", "fake_notion"]
pytestmark = pytest.mark.django_db


@pytest.fixture
def boards(fake_notion):
    _a, leads = fake_notion.add_database("Leads", {"Name": "title", "Email": "email"})
    _b, people = fake_notion.add_database(
        "Contacts",
        {"Name": "title", "Contact": "email", "Stage": ("status", ["New", "Won"]), "Due": "date"},
    )
    return leads, people


def recipe_for(workspace, leads, people):
    return make_recipe(
        workspace,
        [
            {
                "key": "row",
                "app": "notion",
                "action": "find_or_create_database_item",
                "connection": "Acme Notion",
                "config": {
                    "database": people,
                    "match_property": "Contact",
                    "Contact": "{{ trigger.Email }}",
                    "Name": "{{ trigger.Name }}",
                    "Stage": "New",
                    "Due": "2026-06-05 09:00",
                },
            },
            {
                "key": "won",
                "app": "notion",
                "action": "update_database_item",
                "connection": "Acme Notion",
                "config": {"page": "{{ steps.row.id }}", "Stage": "Won"},
            },
        ],
        trigger={"app": "notion", "event": "new_database_item", "config": {"database": leads}},
        name="Leads to contacts",
    )


def test_a_new_row_runs_the_recipe_once_even_when_delivered_twice(
    workspace, conn, fake_notion, boards
):
    leads, people = boards
    recipe = recipe_for(workspace, leads, people)
    trigger = registry.get("notion").trigger("new_database_item")
    ctx = context(conn, database=leads)
    cursor = trigger.poll(ctx, PollRequest(mode="seed")).cursor
    fake_notion.add_page(leads, "Kim", {"Email": {"email": "kim@acme.test"}})
    [item] = trigger.poll(ctx, PollRequest(cursor)).items
    runs = [
        start_run(recipe, Run.Source.APP, item.data, dedupe_key=f"trigger:{recipe.pk}:{item.id}"),
        start_run(recipe, Run.Source.APP, item.data),  # the same item, delivered again
    ]
    for run in runs:
        assert execute(run.id) == "succeeded"
    rows = [p for p in fake_notion.pages.values() if p["parent"].get("data_source_id") == people]
    assert len(rows) == 1
    props = rows[0]["properties"]
    assert props["Name"]["title"][0]["plain_text"] == "Kim"
    assert props["Stage"]["status"]["name"] == "Won"
    assert props["Due"]["date"]["start"] == "2026-06-05T09:00:00+00:00"
    outputs = [s.output for s in runs[1].steps.order_by("id")]
    assert outputs[0]["found"] is True and outputs[0]["Contact"] == "kim@acme.test"


def test_a_step_retried_after_a_429_adds_one_row(workspace, conn, fake_notion, boards):
    leads, people = boards
    recipe = recipe_for(workspace, leads, people)
    fake_notion.rate_limit("pages.create", retry_after=5)
    run = start_run(recipe, Run.Source.MANUAL, {"Name": "Lee", "Email": "lee@acme.test"})
    assert execute(run.id) == "waiting"
    Run.objects.filter(id=run.id).update(resume_at=timezone.now())
    assert execute(run.id) == "succeeded"
    rows = [p for p in fake_notion.pages.values() if p["parent"].get("data_source_id") == people]
    assert len(rows) == 1


def test_the_changed_row_trigger_publishes_with_watched_properties(workspace, conn, boards):
    leads, _people = boards
    recipe = make_recipe(
        workspace,
        [{"key": "note", "app": "builtin", "action": "formatter",
          "config": {"operation": "text_upper", "input": "{{ trigger.Stage }} {{ trigger.url }}"}}],
        trigger={"app": "notion", "event": "updated_database_item",
                 "config": {"database": leads, "properties": ["Stage"]}},
    )  # fmt: skip
    assert recipe.current_version is not None
