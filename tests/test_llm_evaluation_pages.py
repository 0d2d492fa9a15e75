"""The evaluation pages a member uses: test cases typed as labelled fields or saved from a run
with one click, the LLM-as-judge check, "Run evaluations" and "Compare" in a worker (no write
step runs: the Slack and ClickUp fakes hear nothing), Publish asking when the draft passes
fewer cases than the live version, and everything scoped to the workspace."""

from __future__ import annotations

import json

import pytest

from hub.connections.models import Connection
from hub.engine.executor import execute
from hub.engine.models import Run
from hub.engine.runs import start_run
from hub.llm.models import EvalCase, EvalRun, LLMCall
from hub.recipes import evaluation_runs
from tests.conftest import make_recipe, slack_connection, slack_step
from tests.fakes.clickup import FakeClickUp
from tests.llm_support import EMAIL, FIELDS, llm_step, openai_fake  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def clickup(settings):
    fake = FakeClickUp().start()
    space = fake.add_space("Operations")
    fake.list_id = fake.add_list("Board", space_id=space)
    fake.add_member("mina@acme.test", "Mina Kim")
    settings.CLICKUP_API_URL = fake.base_url
    yield fake
    fake.stop()


@pytest.fixture
def recipe(workspace, admin_user, openai_fake, fake_slack, clickup):
    """Email → extract who/what/when → ClickUp task → Slack, published, owned by the admin."""
    slack_connection(workspace, fake_slack)
    team = Connection(workspace=workspace, integration="clickup", label="Team ClickUp")
    team.set_tokens(clickup.issue_token(), None, None)
    team.save()
    recipe = make_recipe(
        workspace,
        [
            llm_step("openai", "extract", key="extract", fields=FIELDS),
            {
                "key": "task",
                "app": "clickup",
                "action": "create_task",
                "connection": "Team ClickUp",
                "config": {"list": clickup.list_id, "name": "{{ steps.extract.task }}"},
            },
            slack_step(fake_slack.general, text="{{ steps.extract.task }}"),
        ],
    )
    recipe.owner = admin_user
    recipe.save()
    recipe.slack, recipe.clickup = fake_slack, clickup
    return recipe


def add_case(recipe, body=EMAIL, name="Board report", checks=None):
    return EvalCase.objects.create(
        recipe=recipe,
        name=name,
        trigger_data={"body": body},
        checks=checks
        or [{"step": "extract", "field": "task", "check": "contains", "value": "board report"}],
    )


def worse_draft(recipe):
    """A draft whose AI step no longer sees the email: it finds nothing."""
    draft = json.loads(json.dumps(recipe.current_version.document))
    draft["steps"][0]["config"]["input"] = "nothing useful"
    recipe.draft = draft
    recipe.save()


def run_worker(evaluation_id):
    """What the worker does with the message the page sent."""
    assert evaluation_runs.perform(evaluation_id) == "done"


# ---------------------------------------------------------------- the cases page and form


def test_a_member_adds_a_case_with_labelled_fields_and_checks_from_lists(recipe, admin_client):
    form = admin_client.get(f"/recipes/{recipe.pk}/tests/new/").content.decode()
    # The sample's fields come from what the steps insert; checks from the AI step's outputs.
    assert 'name="field-0-key" value="body"' in form
    assert '<option value="extract|task">Extract fields with AI: task</option>' in form
    assert "is one of the allowed values" in form
    response = admin_client.post(
        f"/recipes/{recipe.pk}/tests/new/",
        {
            "name": "Urgent board report",
            "field_count": "1",
            "field-0-key": "body",
            "field-0-label": "Body",
            "field-0-value": EMAIL,
            "check_count": "2",
            "check-0-output": "extract|priority",
            "check-0-check": "one_of",
            "check-0-value": "urgent, high",
            "check-1-output": "extract|due_date",
            "check-1-check": "is_date",
        },
    )
    assert response.status_code == 302
    case = EvalCase.objects.get()
    assert case.trigger_data == {"body": EMAIL}
    assert case.checks == [
        {"step": "extract", "field": "priority", "check": "one_of", "value": ["urgent", "high"]},
        {"step": "extract", "field": "due_date", "check": "is_date"},
    ]
    page = admin_client.get(f"/recipes/{recipe.pk}/tests/").content.decode()
    assert "Urgent board report" in page and "“urgent, high”" in page


def test_the_form_says_what_to_fix(recipe, admin_client):
    response = admin_client.post(
        f"/recipes/{recipe.pk}/tests/new/",
        {
            "name": "",
            "field_count": "0",
            "check_count": "2",
            "check-0-output": "extract|task",
            "check-0-check": "equals",
            "check-0-value": "",
            "check-1-output": "extract|task",
            "check-1-check": "judge",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Give the test case a name." in page
    assert "Check 1: Write the value to check against." in page
    assert "Check 2: Choose the model that judges." in page
    assert not EvalCase.objects.exists()


def test_power_users_write_the_sample_as_data(recipe, admin_client):
    data = {"body": EMAIL, "attachments": [{"name": "q3.pdf"}]}
    post = {
        "name": "With attachments",
        "field_count": "0",
        "sample_json_shown": "{}",
        "check_count": "1",
        "check-0-output": "extract|task",
        "check-0-check": "present",
    }
    bad = admin_client.post(f"/recipes/{recipe.pk}/tests/new/", {**post, "sample_json": "{oops"})
    assert "The sample data is not valid JSON: look at line 1, column 2." in bad.content.decode()
    admin_client.post(f"/recipes/{recipe.pk}/tests/new/", {**post, "sample_json": json.dumps(data)})
    assert EvalCase.objects.get().trigger_data == data
    # Shown again, the nested value is a field holding data, read back as such.
    case = EvalCase.objects.get()
    page = admin_client.get(f"/recipes/{recipe.pk}/tests/{case.pk}/").content.decode()
    assert 'name="field-1-as_data" value="1"' in page and "q3.pdf" in page


def test_edit_and_delete_a_case(recipe, admin_client):
    case = add_case(recipe)
    page = admin_client.get(f"/recipes/{recipe.pk}/tests/{case.pk}/").content.decode()
    assert 'value="Board report"' in page and "selected>" in page
    admin_client.post(
        f"/recipes/{recipe.pk}/tests/{case.pk}/",
        {
            "name": "Renamed",
            "field_count": "1",
            "field-0-key": "body",
            "field-0-value": "Task: Call Lee",
            "check_count": "1",
            "check-0-output": "extract|task",
            "check-0-check": "equals",
            "check-0-value": "Call Lee",
        },
    )
    case.refresh_from_db()
    assert case.name == "Renamed" and case.trigger_data == {"body": "Task: Call Lee"}
    assert case.checks[0]["value"] == "Call Lee"
    admin_client.post(f"/recipes/{recipe.pk}/tests/{case.pk}/delete/")
    assert not EvalCase.objects.exists()


# ---------------------------------------------------------------- save from a real run


def test_save_as_test_case_from_a_run_prefills_equals_checks(recipe, admin_client):
    run = start_run(recipe, Run.Source.MANUAL, {"body": EMAIL})
    assert execute(run.id) == "succeeded"
    page = admin_client.get(f"/runs/{run.id}/").content.decode()
    assert "Save as test case" in page
    response = admin_client.post(f"/runs/{run.id}/save-case/")
    case = EvalCase.objects.get()
    assert response.url == f"/recipes/{recipe.pk}/tests/{case.pk}/"
    assert case.trigger_data == {"body": EMAIL} and case.from_run_id == run.id
    checks = {c["field"]: c for c in case.checks}
    assert checks["task"] == {
        "step": "extract",
        "field": "task",
        "check": "equals",
        "value": "Prepare the Q3 board report",
    }
    assert checks["assignee_email"]["value"] == "mina@acme.test"
    assert checks["tags"]["value"] == ["finance", "board"]
    # Only the AI step's answers: the ClickUp and Slack steps give no checks.
    assert {c["step"] for c in case.checks} == {"extract"}
    # The saved case passes on the same recipe, the list kept as a list through the form.
    form = admin_client.get(response.url).content.decode()
    assert "finance" in form


def test_runs_without_an_ai_step_offer_no_save(workspace, admin_client, fake_slack, admin_user):
    slack_connection(workspace, fake_slack)
    plain = make_recipe(workspace, [slack_step(fake_slack.general, text="hi")], name="Plain")
    plain.owner = admin_user
    plain.save()
    run = start_run(plain, Run.Source.MANUAL, {})
    execute(run.id)
    assert "Save as test case" not in admin_client.get(f"/runs/{run.id}/").content.decode()
    admin_client.post(f"/runs/{run.id}/save-case/")
    assert not EvalCase.objects.exists()


# ---------------------------------------------------------------- the judge


def judge_rule(recipe, rubric):
    connection = Connection.objects.get(label="OpenAI")
    return {
        "step": "extract",
        "field": "task",
        "check": "judge",
        "value": rubric,
        "connection_id": connection.pk,
        "connection": "OpenAI",
        "model": "gpt-4.1-mini",
    }


def test_the_judge_is_a_priced_evaluation_call_with_a_structured_verdict(
    recipe, admin_client, openai_fake
):
    # The fake decides from a "Pass: yes" line in what it reads, as a real judge from the rubric.
    add_case(recipe, name="A pass", checks=[judge_rule(recipe, "Names the report.\nPass: yes")])
    add_case(recipe, name="B fail", checks=[judge_rule(recipe, "Names a date.\nPass: no")])
    evaluation = evaluation_runs.start(recipe, EvalRun.Kind.EVALUATE)
    run_worker(evaluation.pk)
    evaluation.refresh_from_db()
    passed = [c["passed"] for c in evaluation.results["draft"]["cases"]]
    assert passed == [True, False]
    failed = evaluation.results["draft"]["cases"][1]["failures"][0]
    assert failed.startswith("extract.task: the judge said no:")

    judges = LLMCall.objects.filter(purpose="judge").order_by("id")
    assert [j.model_requested for j in judges] == ["gpt-4.1-mini", "gpt-4.1-mini"]
    assert all(j.evaluation and j.recipe_id == recipe.pk and j.cost for j in judges)
    asked = [c for c in openai_fake.calls("chat.completions") if c.body["model"] == "gpt-4.1-mini"]
    schema = asked[0].body["response_format"]["json_schema"]["schema"]
    assert set(schema["properties"]) == {"pass", "reason"}
    assert "Prepare the Q3 board report" in asked[0].body["messages"][-1]["content"]
    # The judge's cost is in the evaluation's cost.
    spent = sum(c.cost for c in LLMCall.objects.filter(evaluation=True))
    assert str(spent) == evaluation.results["draft"]["cost"]


def test_the_judge_model_is_one_the_admins_allowed(recipe, admin_client):
    connection = Connection.objects.get(label="OpenAI")
    connection.details = {**connection.details, "allowed": ["gpt-4o-mini"]}
    connection.save()
    form = admin_client.get(f"/recipes/{recipe.pk}/tests/new/").content.decode()
    assert f'value="{connection.pk}|gpt-4o-mini"' in form
    assert f'value="{connection.pk}|gpt-4.1-mini"' not in form
    add_case(recipe, checks=[judge_rule(recipe, "Pass: yes")])
    evaluation = evaluation_runs.start(recipe, EvalRun.Kind.EVALUATE)
    run_worker(evaluation.pk)
    evaluation.refresh_from_db()
    [case] = evaluation.results["draft"]["cases"]
    assert not case["passed"] and "not available on “OpenAI”" in case["failures"][0]


# ---------------------------------------------------------------- run and compare


def test_run_evaluations_in_a_worker_and_see_the_results(recipe, admin_client, openai_fake):
    add_case(recipe)
    add_case(
        recipe,
        name="Wrong priority",
        checks=[{"step": "extract", "field": "priority", "check": "one_of", "value": ["low"]}],
    )
    page = admin_client.post(
        f"/recipes/{recipe.pk}/tests/run/", {"kind": "evaluate"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    evaluation = EvalRun.objects.get()
    assert evaluation.status == "queued" and "Running 2 test cases" in page
    assert f'hx-get="/recipes/{recipe.pk}/tests/results/{evaluation.pk}/"' in page
    run_worker(evaluation.pk)
    page = admin_client.get(f"/recipes/{recipe.pk}/tests/results/{evaluation.pk}/").content
    page = page.decode()
    assert "hx-trigger" not in page  # done: no more polling
    assert "<strong>1 of 2</strong> (50 %)" in page
    assert "extract.priority: one_of [&#x27;low&#x27;] failed (got &#x27;urgent&#x27;)" in page
    assert "$0.0" in page and "price unknown" not in page
    # No write step ran, and the page keeps the results for the next visit.
    assert recipe.slack.calls("chat.postMessage") == []
    assert [c for c in recipe.clickup.calls() if c.method != "GET"] == []
    assert (
        "<strong>1 of 2</strong>"
        in admin_client.get(f"/recipes/{recipe.pk}/tests/").content.decode()
    )


def test_compare_shows_draft_and_live_side_by_side_case_by_case(recipe, admin_client):
    add_case(recipe)
    worse_draft(recipe)
    admin_client.post(f"/recipes/{recipe.pk}/tests/run/", {"kind": "compare"})
    evaluation = EvalRun.objects.get()
    assert evaluation.kind == "compare" and evaluation.live_version == recipe.current_version
    run_worker(evaluation.pk)
    page = admin_client.get(f"/recipes/{recipe.pk}/tests/").content.decode()
    assert "Draft compared with the live version" in page
    assert '<th scope="col">Draft</th><th scope="col">Live version</th>' in page
    assert "<strong>0 of 1</strong> (0 %)" in page and "<strong>1 of 1</strong> (100 %)" in page
    assert recipe.slack.calls("chat.postMessage") == []
    assert LLMCall.objects.filter(evaluation=False).count() == 0


def test_a_model_without_a_price_is_shown_as_price_unknown(recipe, admin_client):
    from hub.llm.models import ModelPrice

    ModelPrice.objects.all().delete()
    add_case(recipe)
    admin_client.post(f"/recipes/{recipe.pk}/tests/run/", {"kind": "evaluate"})
    run_worker(EvalRun.objects.get().pk)
    page = admin_client.get(f"/recipes/{recipe.pk}/tests/").content.decode()
    assert "price unknown for 1 call" in page and "$0.0000" not in page


def test_the_worker_task_runs_a_queued_evaluation_once(recipe):
    from hub.recipes.tasks import run_evaluation

    add_case(recipe)
    evaluation = evaluation_runs.start(recipe, EvalRun.Kind.EVALUATE)
    assert run_evaluation(evaluation.pk) == "done"
    assert run_evaluation(evaluation.pk) == "not queued"  # a second delivery does nothing
    assert LLMCall.objects.count() == 1


# ---------------------------------------------------------------- publish asks when worse


def test_publishing_a_worse_draft_asks_with_both_pass_rates(recipe, admin_client):
    add_case(recipe)
    worse_draft(recipe)
    live = recipe.current_version
    page = admin_client.post(f"/recipes/{recipe.pk}/edit/publish/").content.decode()
    check = EvalRun.objects.get()
    assert "the draft and the live version run the 1 test case" in page
    assert f"/recipes/{recipe.pk}/edit/publish/check/{check.pk}/" in page
    run_worker(check.pk)
    page = admin_client.get(f"/recipes/{recipe.pk}/edit/publish/check/{check.pk}/").content
    page = page.decode()
    assert (
        "The draft passes fewer test cases than the live version: 0 of 1, against 1 of 1." in page
    )
    assert "Pass rate: draft 0.00, live version 1.00." in page
    assert "Publish anyway" in page
    recipe.refresh_from_db()
    assert recipe.current_version == live  # nothing published yet
    # Publishing again without confirming asks again, from the same comparison.
    again = admin_client.post(f"/recipes/{recipe.pk}/edit/publish/").content.decode()
    assert "Publish anyway" in again and EvalRun.objects.count() == 1
    admin_client.post(f"/recipes/{recipe.pk}/edit/publish/", {"confirmed": "1"})
    recipe.refresh_from_db()
    assert recipe.current_version.number == live.number + 1


def test_a_draft_as_good_as_live_publishes_once_the_comparison_is_in(recipe, admin_client):
    add_case(recipe)
    draft = json.loads(json.dumps(recipe.current_version.document))
    draft["name"] = "Board reports to ClickUp"
    recipe.draft = draft
    recipe.save()
    live = recipe.current_version
    admin_client.post(f"/recipes/{recipe.pk}/edit/publish/")
    check = EvalRun.objects.get()
    run_worker(check.pk)
    page = admin_client.get(f"/recipes/{recipe.pk}/edit/publish/check/{check.pk}/").content
    assert 'hx-trigger="load"' in page.decode()  # the panel posts Publish again by itself
    page = admin_client.post(f"/recipes/{recipe.pk}/edit/publish/").content.decode()
    recipe.refresh_from_db()
    assert recipe.current_version.number == live.number + 1
    assert "Published version" in page


def test_no_cases_no_check(recipe, admin_client):
    live = recipe.current_version
    worse_draft(recipe)
    admin_client.post(f"/recipes/{recipe.pk}/edit/publish/")
    recipe.refresh_from_db()
    assert recipe.current_version.number == live.number + 1 and not EvalRun.objects.exists()


def test_the_recipe_page_publish_sends_a_gated_draft_to_the_editor(recipe, admin_client):
    add_case(recipe)
    worse_draft(recipe)
    response = admin_client.post(f"/recipes/{recipe.pk}/publish/")
    assert response.url == f"/recipes/{recipe.pk}/edit/"
    recipe.refresh_from_db()
    assert recipe.versions.count() == 1


# ---------------------------------------------------------------- scoping and permissions


def test_another_workspaces_recipe_case_and_results_are_404(
    recipe, client, outsider, other_workspace
):
    case = add_case(recipe)
    evaluation = evaluation_runs.start(recipe, EvalRun.Kind.EVALUATE)
    run = start_run(recipe, Run.Source.MANUAL, {"body": EMAIL})
    execute(run.id)
    client.force_login(outsider)
    for url in (
        f"/recipes/{recipe.pk}/tests/",
        f"/recipes/{recipe.pk}/tests/new/",
        f"/recipes/{recipe.pk}/tests/{case.pk}/",
        f"/recipes/{recipe.pk}/tests/results/{evaluation.pk}/",
    ):
        assert client.get(url).status_code == 404, url
    for url in (
        f"/recipes/{recipe.pk}/tests/{case.pk}/delete/",
        f"/recipes/{recipe.pk}/tests/run/",
        f"/runs/{run.id}/save-case/",
    ):
        assert client.post(url).status_code == 404, url
    assert EvalCase.objects.count() == 1 and EvalRun.objects.count() == 1


def test_a_case_of_another_recipe_is_404(recipe, admin_client, workspace):
    other = make_recipe(workspace, [llm_step("openai", "ask")], name="Other")
    case = add_case(other)
    assert admin_client.get(f"/recipes/{recipe.pk}/tests/{case.pk}/").status_code == 404
    assert admin_client.post(f"/recipes/{recipe.pk}/tests/{case.pk}/delete/").status_code == 404


def test_members_manage_cases_of_their_own_recipes_only(recipe, member_client, member_user):
    assert member_client.get(f"/recipes/{recipe.pk}/tests/").status_code == 403
    recipe.owner = member_user
    recipe.save()
    assert member_client.get(f"/recipes/{recipe.pk}/tests/").status_code == 200


def test_the_cases_pages_in_korean(recipe, admin_client):
    from django.utils import translation

    add_case(recipe)
    korean = {"HTTP_ACCEPT_LANGUAGE": "ko"}
    try:
        page = admin_client.get(f"/recipes/{recipe.pk}/tests/", **korean).content.decode()
        form = admin_client.get(f"/recipes/{recipe.pk}/tests/new/", **korean).content.decode()
    finally:
        translation.deactivate()  # a Korean request leaves Korean active in this thread
    assert "“Test recipe”의 테스트 케이스" in page and "평가 실행" in page
    assert "AI 단계와 출력" in form and "허용된 값 중 하나임" in form
