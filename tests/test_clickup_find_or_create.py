"""find_or_create_task: a trigger delivered twice makes one task. It matches on the name
inside the chosen list (closed tasks included), or on a custom field ClickUp filters by."""

from __future__ import annotations

import json

from tests.test_clickup_actions import clickup, context, fails, run  # noqa: F401


def test_twice_makes_one_task(clickup):  # noqa: F811
    config = {"list": clickup.list_id, "name": "Invoice #42 from Globex", "priority": "high"}
    first = run(clickup, "find_or_create_task", **config)
    second = run(clickup, "find_or_create_task", **{**config, "name": " invoice #42 FROM globex "})
    assert first["outcome"] == "created" and first["created"] is True
    assert second["outcome"] == "found" and second["created"] is False
    assert second["id"] == first["id"]
    assert len(clickup.calls("task.create")) == 1
    named = [t for t in clickup.tasks.values() if t["name"] == "Invoice #42 from Globex"]
    assert len(named) == 1


def test_a_closed_task_with_the_name_is_found_and_other_lists_do_not_count(clickup):  # noqa: F811
    space = clickup.lists[clickup.list_id]["space"]["id"]
    elsewhere = clickup.add_list("Elsewhere", space_id=space)
    clickup.add_task(elsewhere, "Call Globex")
    done = clickup.add_task(clickup.list_id, "Call Globex", status="complete")
    out = run(clickup, "find_or_create_task", list=clickup.list_id, name="Call Globex")
    assert out["id"] == done["id"] and out["outcome"] == "found" and out["status"] == "complete"
    [search] = clickup.calls("task.list")
    assert search.path.endswith(f"/list/{clickup.list_id}/task")
    assert search.query["include_closed"] == ["true"]


def test_the_name_is_looked_for_on_every_page(clickup):  # noqa: F811
    for n in range(230):
        clickup.add_task(clickup.list_id, f"Filler {n}")
    oldest = clickup.add_task(clickup.list_id, "Needle")
    clickup.tasks[oldest["id"]]["date_created"] = "1"  # the last one in ClickUp's order
    out = run(clickup, "find_or_create_task", list=clickup.list_id, name="Needle")
    assert out["id"] == oldest["id"]
    assert [c.query["page"] for c in clickup.calls("task.list")] == [["0"], ["1"], ["2"]]


def test_match_on_a_custom_field(clickup):  # noqa: F811
    order = clickup.add_custom_field(clickup.list_id, "Order number", "short_text")
    key = f"cf_{order['id']}"
    first = run(
        clickup,
        "find_or_create_task",
        list=clickup.list_id,
        name="Ship it",
        match_on=key,
        **{key: "SO-1001"},
    )
    again = run(
        clickup,
        "find_or_create_task",
        list=clickup.list_id,
        name="Ship it (renamed)",
        match_on=key,
        **{key: "SO-1001"},
    )
    other = run(
        clickup,
        "find_or_create_task",
        list=clickup.list_id,
        name="Ship it",
        match_on=key,
        **{key: "SO-1002"},
    )
    assert (first["outcome"], again["outcome"], other["outcome"]) == ("created", "found", "created")
    assert again["id"] == first["id"] != other["id"]
    rule = json.loads(clickup.calls("task.list")[1].query["custom_fields"][0])
    assert rule == [{"field_id": order["id"], "operator": "=", "value": "SO-1001"}]


def test_the_match_picker_offers_the_name_and_identifying_fields(clickup):  # noqa: F811
    order = clickup.add_custom_field(clickup.list_id, "Order number", "short_text")
    clickup.add_custom_field(clickup.list_id, "Urgent", "checkbox")
    ctx = context(clickup, list=clickup.list_id)
    field = ctx.integration.action("find_or_create_task").field("match_on")
    page = field.dynamic_choices(ctx, "", None)
    assert [(c.value, c.label) for c in page.choices] == [
        ("name", "Task name"),
        (f"cf_{order['id']}", "Order number"),
    ]


def test_matching_on_a_field_left_empty_says_what_to_do(clickup):  # noqa: F811
    error = fails(clickup, "find_or_create_task", list=clickup.list_id, name="x", match_on="cf_abc")
    assert error.permanent and "match on the task name" in error.message
    assert len(clickup.log) == 0


def test_a_list_not_authorised_says_to_pick_it_again_or_reconnect(clickup):  # noqa: F811
    error = fails(clickup, "find_or_create_task", list="999999", name="x")
    assert error.permanent and not error.reauth
    assert error.message == (
        "This ClickUp list is not authorised for Toolstack, or it was deleted — pick the list "
        "again, or reconnect ClickUp and tick the list's Workspace."
    )
    assert clickup.calls("task.list")[-1].status == 401


def test_rate_limited_lookup_waits_for_the_reset(clickup):  # noqa: F811
    clickup.rate_limit("task.list", retry_after=5)
    error = fails(clickup, "find_or_create_task", list=clickup.list_id, name="x")
    assert error.retryable and 3 <= error.retry_after <= 5
    assert clickup.calls("task.create") == []


def test_the_preview_lists_the_search_then_the_create_it_would_send(clickup):  # noqa: F811
    token = clickup.issue_token()
    ctx = context(
        clickup, token, list=clickup.list_id, name="Call Globex", assignees=["grace@acme.test"]
    )
    action = ctx.integration.action("find_or_create_task")
    preview = action.preview(ctx)
    assert clickup.calls("task.list") == [] and clickup.calls("task.create") == []
    assert token not in repr(preview)
    search, create = preview["requests"]
    assert search["method"] == "GET" and search["query"]["include_closed"] == "true"
    action.run(ctx)
    [sent] = clickup.calls("task.create")
    assert create["url"] == preview["url"] == clickup.origin + sent.path
    assert create["body"] == preview["body"] == sent.body
    assert search["url"] == clickup.origin + clickup.calls("task.list")[0].path
