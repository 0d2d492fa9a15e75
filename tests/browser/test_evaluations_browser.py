"""Test cases as a member meets them: "Save as test case" on a run's page, one check loosened
from "equals" to "contains", "Run evaluations", and the results arriving on the page without a
reload — every page axe-clean."""

from __future__ import annotations

import re

import pytest

from hub.engine.executor import execute
from hub.engine.models import Run
from hub.engine.runs import start_run
from hub.llm.models import EvalRun
from hub.llm.seed_prices import seed
from hub.recipes import evaluation_runs
from tests.browser.conftest import sign_in
from tests.browser.editor_kit import axe_violations
from tests.conftest import PASSWORD, make_recipe
from tests.llm_support import EMAIL, FIELDS, llm_step, openai_fake  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.usefixtures("openai_fake")
def test_save_a_run_as_a_case_loosen_it_and_run_evaluations(
    page, live_server, workspace, admin_user, screenshot
):
    from hub.llm.models import ModelPrice

    seed(ModelPrice)  # a test on a real worker before this one may have flushed them
    recipe = make_recipe(
        workspace, [llm_step("openai", "extract", key="extract", fields=FIELDS)], name="Triage"
    )
    recipe.owner = admin_user
    recipe.save()
    run = start_run(recipe, Run.Source.MANUAL, {"body": EMAIL})
    assert execute(run.id) == "succeeded"

    sign_in(page, live_server, admin_user.email, PASSWORD)
    page.goto(f"{live_server.url}/runs/{run.pk}/")
    page.get_by_role("button", name="Save as test case").click()
    page.wait_for_url(re.compile(r"/recipes/\d+/tests/\d+/$"))
    assert page.get_by_text("Saved as a test case.").is_visible()
    assert page.get_by_label("Body").input_value() == EMAIL
    assert axe_violations(page) == []
    screenshot("saved")

    # The task's wording may vary: "contains" instead of "equals".
    outputs = page.get_by_label("AI step and output")
    index = next(
        i for i in range(outputs.count()) if outputs.nth(i).input_value() == "extract|task"
    )
    page.get_by_label("Check", exact=True).nth(index).select_option("contains")
    page.get_by_label("Value", exact=True).nth(index).fill("board report")
    page.get_by_role("button", name="Save test case", exact=True).last.click()
    page.wait_for_url(f"{live_server.url}/recipes/{recipe.pk}/tests/")
    assert page.get_by_text("Extract fields with AI: task contains “board report”").is_visible()

    page.get_by_role("button", name="Run evaluations").click()
    page.get_by_text("Running 1 test case").wait_for()
    evaluation = EvalRun.objects.get()
    assert evaluation_runs.perform(evaluation.pk) == "done"  # what the worker does
    page.get_by_role("row", name=re.compile("Passed")).get_by_text("1 of 1").wait_for()
    assert page.get_by_text("Running 1 test case").count() == 0
    page.wait_for_function("!document.querySelector('.htmx-settling, .htmx-added')")
    screenshot("results")
    assert axe_violations(page) == []
