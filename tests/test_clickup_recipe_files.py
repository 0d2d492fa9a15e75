"""ClickUp steps in recipe files: the shapes older files carry still import, the new
fields check at publish time, and later steps may use what find_or_create_task promises."""

from __future__ import annotations

from hub.recipes import format as recipe_format


def problems(*steps: dict) -> list[str]:
    document = recipe_format.normalize(
        {"format": recipe_format.FORMAT, "name": "R", "steps": list(steps)}
    )
    return [str(p) for p in recipe_format.validate(document)]


def clickup(key: str, action: str, config: dict) -> dict:
    return {"key": key, "app": "clickup", "action": action, "connection": "Team", "config": config}


def test_an_older_file_with_a_list_id_and_a_step_time_zone_still_imports():
    older = clickup(
        "task",
        "create_task",
        {"list": "901234", "name": "Call back", "due_date": "2026-12-04", "timezone": "Asia/Seoul"},
    )
    finding = clickup("due", "find_tasks", {"workspace": "9012", "due": "today", "timezone": "UTC"})
    assert problems(older, finding) == []


def test_custom_fields_and_mapped_assignees_pass_publish_checks():
    step = clickup(
        "task",
        "create_task",
        {
            "list": "901234",
            "name": "Renewal",
            "assignees": "{{ trigger.owner_emails }}",
            "cf_5dc86497-098d-4bb0-87d6-cf28e43812e7": "Won",
        },
    )
    assert problems(step) == []


def test_assignees_typed_as_one_string_are_refused_with_what_to_do():
    step = clickup("task", "create_task", {"list": "1", "name": "x", "assignees": "a@acme.test"})
    assert problems(step) == [
        "In step “task”, field “assignees”: “Assignees” takes a list of choices."
    ]


def test_a_list_is_still_required():
    assert problems(clickup("task", "create_task", {"name": "x"})) == [
        "In step “task”, field “list”: “List” is required."
    ]


def test_later_steps_may_use_whether_the_task_was_found_or_created():
    step = clickup("task", "find_or_create_task", {"list": "1", "name": "x"})
    after = clickup(
        "comment",
        "add_comment",
        {
            "task": "{{ steps.task.id }}",
            "text": "{{ steps.task.outcome }} {{ steps.task.created }}",
        },
    )
    assert problems(step, after) == []
    typo = clickup("comment", "add_comment", {"task": "{{ steps.task.outcom }}", "text": "x"})
    assert problems(step, typo)
