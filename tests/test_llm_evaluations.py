"""Evaluations: saved cases run the recipe's AI steps (no write step runs), checks give a pass
rate, cost and latency, and the draft is compared with the live version case by case."""

from __future__ import annotations

import pytest

from hub.llm.models import EvalCase, LLMCall
from hub.recipes import evaluations
from tests.conftest import make_recipe
from tests.fakes.slack import FakeSlack
from tests.llm_support import EMAIL, FIELDS, llm_step, openai_fake  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def recipe(workspace, openai_fake, settings):
    slack = FakeSlack().start()
    settings.SLACK_API_URL = slack.settings()["SLACK_API_URL"]
    from tests.conftest import slack_connection, slack_step

    slack_connection(workspace, slack)
    recipe = make_recipe(
        workspace,
        [
            llm_step("openai", "extract", key="extract", fields=FIELDS),
            slack_step("C0123", text="{{ steps.extract.task }}"),
        ],
    )
    recipe.slack = slack
    yield recipe
    slack.stop()


def case(recipe, body, **check):
    return EvalCase.objects.create(
        recipe=recipe, name=body[:20], trigger_data={"body": body}, checks=[check]
    )


def test_cases_run_the_ai_steps_only_and_report_pass_rate_and_cost(recipe, openai_fake):
    case(recipe, EMAIL, step="extract", field="task", check="contains", value="board report")
    case(recipe, EMAIL, step="extract", field="due_date", check="is_date")
    case(recipe, EMAIL, step="extract", field="priority", check="one_of", value=["low"])
    result = evaluations.evaluate(recipe, recipe.current_version.document)
    assert [r.passed for r in result.results] == [True, True, False]
    assert result.pass_rate == pytest.approx(2 / 3)
    assert "one_of ['low'] failed (got 'urgent')" in result.results[2].failures[0]
    assert result.cost > 0 and result.latency_ms >= 0
    # The write step did not run: Slack was never called; the calls are marked evaluation.
    assert recipe.slack.calls("chat.postMessage") == []
    assert LLMCall.objects.filter(evaluation=True).count() == 3
    assert len(openai_fake.calls("chat.completions")) == 3


def test_compare_runs_draft_and_live_and_a_worse_draft_needs_confirmation(recipe):
    case(
        recipe,
        EMAIL,
        step="extract",
        field="assignee_email",
        check="equals",
        value="mina@acme.test",
    )
    draft = dict(recipe.current_version.document)
    steps = [dict(s) for s in draft["steps"]]
    steps[0] = {**steps[0], "config": {**steps[0]["config"], "input": "nothing useful"}}
    recipe.draft = {**draft, "steps": steps}
    recipe.save()
    both = evaluations.compare(recipe)
    assert both["live"].pass_rate == 1.0 and both["draft"].pass_rate == 0.0
    assert evaluations.needs_confirmation(recipe)
