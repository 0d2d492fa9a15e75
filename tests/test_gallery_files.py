"""The CI check of the templates gallery: every template file is a recipe that passes the
same checks as publishing once its placeholders are filled, with a connection of each app
it needs present in the workspace."""

from __future__ import annotations

import json

import pytest

from hub.connections.models import Connection
from hub.recipes import format as recipe_format
from hub.recipes.gallery import FOLDER, TEMPLATES, placeholders
from hub.recipes.services import check

# The six stacks, each named by the apps it must use.
WANTED_APPS = {
    "important_email_to_task": {"gmail", "llm", "clickup", "slack"},
    "notion_item_to_slack": {"notion", "slack"},
    "daily_clickup_digest": {"schedule", "clickup", "llm", "slack"},
    "meeting_notes_to_tasks": {"notion", "llm", "clickup"},
    "email_to_notion_row": {"gmail", "llm", "notion"},
    "content_pipeline": {"llm", "notion", "slack"},
}


def test_every_file_in_the_folder_is_listed_with_a_title_and_description():
    files = {p.stem for p in FOLDER.glob("*.json")}
    assert files == {t.slug for t in TEMPLATES} == set(WANTED_APPS)
    for template in TEMPLATES:
        assert str(template.title) and str(template.description)
        assert len(str(template.description)) <= 120, "one line"


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.slug)
def test_template_file_uses_the_apps_of_its_stack(template):
    document = json.loads((FOLDER / f"{template.slug}.json").read_text())
    assert document["format"] == recipe_format.FORMAT
    apps = {document["trigger"]["app"]} | {s["app"] for s in document["steps"]}
    assert WANTED_APPS[template.slug] <= apps


def _fill_every_placeholder(workspace, document):
    connections = {}
    for integration in placeholders.connection_apps(document):
        connection = Connection(
            workspace=workspace,
            integration=integration.uses_connections_of[0],
            label=f"{integration.name} one",
        )
        connection.set_tokens("token-for-the-check", None, None)
        connection.save()
        connections[integration.slug] = connection
    values = {}
    for picker in placeholders.pickers(document):
        static = [c.value for c in picker.field.choices]
        values[picker.name] = static[0] if static else f"picked-{picker.field.key}"
    return placeholders.fill(document, connections, values)


@pytest.mark.django_db
@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.slug)
def test_template_passes_the_publish_checks_once_filled(workspace, template):
    document = template.document
    filled = _fill_every_placeholder(workspace, document)
    missing = placeholders.unavailable(document)
    try:
        problems = check(workspace, recipe_format.normalize(filled))
    except recipe_format.RecipeFormatError as error:
        problems = error.problems
    if missing:
        # Only the apps this hub lacks may stop it (the gallery hides it until they exist).
        wording = [str(p) for p in problems]
        assert problems and all(p.field in {"app", "action", "event"} for p in problems), wording
        pytest.skip(f"this hub has no {', '.join(missing)} yet")
    assert problems == []


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.slug)
def test_template_leaves_connections_and_pickers_for_the_member(template):
    document = template.document
    if placeholders.unavailable(document):
        pytest.skip("its apps are not on this hub yet")
    assert placeholders.connection_apps(document), "every stack connects some app"
    assert placeholders.pickers(document), "every stack has a channel, list or database"
    parts = [document["trigger"], *document["steps"]]
    assert not any(p.get("connection") for p in parts), "files never name a connection"
