"""What the repairs look like to a person: importing over an existing recipe is a question,
never silent; deleting asks first and says what goes with it."""

from __future__ import annotations

import json

import pytest

from hub.engine.models import Run
from hub.engine.runs import start_run
from hub.recipes.models import Recipe
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD, make_recipe

pytestmark = pytest.mark.django_db(transaction=True)

FILE = {
    "format": "toolstack.recipe/1",
    "name": "Weekly digest",
    "trigger": {"app": "manual"},
    "steps": [
        {
            "key": "shout",
            "app": "builtin",
            "action": "formatter",
            "config": {"operation": "text_upper", "input": "hello"},
        }
    ],
}


def import_text(page, live_server, document) -> None:
    page.goto(f"{live_server.url}/recipes/import/")
    page.get_by_label("…or paste it here").fill(json.dumps(document))
    page.get_by_role("button", name="Import").click()
    page.wait_for_load_state()


def test_importing_over_ones_own_recipe_asks_before_replacing(
    page, live_server, workspace, admin_user, screenshot
):
    sign_in(page, live_server, admin_user.email, PASSWORD)
    import_text(page, live_server, FILE)
    assert page.get_by_role("heading", name="Weekly digest").is_visible()

    changed = {**FILE, "description": "Now with a description"}
    import_text(page, live_server, changed)
    question = page.get_by_role("alertdialog")
    assert question.get_by_text("Replace the draft of \u2018Weekly digest\u2019?").is_visible()
    screenshot("question")

    question.get_by_role("button", name="Import as a new recipe").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Weekly digest (2)").is_visible()
    assert page.get_by_text("already exists, so this one is called").is_visible()
    screenshot("imported-as-new")
    assert Recipe.objects.filter(workspace=workspace).count() == 2

    import_text(page, live_server, changed)
    page.get_by_role("button", name="Replace the draft of \u2018Weekly digest\u2019").click()
    page.wait_for_load_state()
    assert Recipe.objects.filter(workspace=workspace).count() == 2
    assert Recipe.objects.get(name="Weekly digest").description == "Now with a description"


def test_deleting_a_recipe_says_how_many_runs_go_with_it(
    page, live_server, workspace, admin_user, screenshot
):
    recipe = make_recipe(workspace, FILE["steps"], name="Old recipe")
    for _ in range(3):
        start_run(recipe, Run.Source.MANUAL, {})
    sign_in(page, live_server, admin_user.email, PASSWORD)
    page.goto(f"{live_server.url}/recipes/{recipe.pk}/")
    page.get_by_role("link", name="Delete…").click()
    page.wait_for_load_state()
    assert page.get_by_text("3 runs").first.is_visible()
    screenshot("confirm")
    page.get_by_role("button", name="Delete").last.click()
    page.wait_for_load_state()
    screenshot("deleted")
    assert not Recipe.objects.filter(pk=recipe.pk).exists()
    assert Run.objects.filter(recipe_id=recipe.pk).count() == 0
