"""The AI usage page (admins only, this workspace's calls only) and tokens and cost on the
run page's AI steps."""

from __future__ import annotations

import pytest

from hub.engine.executor import execute
from hub.engine.models import Run
from hub.engine.runs import start_run
from hub.llm.models import LLMCall
from tests.llm_support import EMAIL, llm_recipe, openai_fake, recorded_call  # noqa: F401

pytestmark = pytest.mark.django_db


def call(workspace, model="gpt-4o-mini", cost="0.0123", **fields):
    return recorded_call(workspace, cost, model=model, input_uncached=100, output=20, **fields)[0]


def test_usage_page_shows_spend_models_and_unknown_prices(workspace, admin_client):
    call(workspace)
    call(workspace, model="llama3.1:8b", cost=None)
    page = admin_client.get("/ai/usage/").content.decode()
    assert "$0.0123" in page
    assert "1 call used a model with no price" in page
    assert "llama3.1:8b" in page and "price unknown" in page
    assert "<svg" in page and "<rect" in page


def test_usage_page_lists_only_this_workspaces_calls(workspace, other_workspace, admin_client):
    call(other_workspace, model="secret-model")
    page = admin_client.get("/ai/usage/").content.decode()
    assert "secret-model" not in page


def test_members_cannot_open_the_usage_page(member_client):
    assert member_client.get("/ai/usage/").status_code == 403


def test_admins_set_a_budget_and_see_its_bar(workspace, admin_client):
    call(workspace, cost="2.50")
    response = admin_client.post("/ai/budget/", {"monthly_limit": "10", "on_reach": "wait"})
    assert response.status_code == 302
    page = admin_client.get("/ai/usage/").content.decode()
    assert "$2.50 / $10.00 (25.0%)" in page and "<progress" in page
    bad = admin_client.post("/ai/budget/", {"monthly_limit": "lots"}, follow=True)
    assert "Enter the monthly budget in dollars" in bad.content.decode()


def test_run_page_shows_tokens_and_cost_of_the_ai_step(workspace, admin_client, openai_fake):
    run = start_run(llm_recipe(workspace, "openai", "ask"), Run.Source.MANUAL, {"body": EMAIL})
    assert execute(run.id) == "succeeded"
    recorded = LLMCall.objects.get()
    page = admin_client.get(f"/runs/{run.id}/").content.decode()
    assert f"1 model call · {recorded.input_total} tokens in, {recorded.output} out" in page
    assert "$0.0000" in page  # a few hundred tokens of gpt-4o-mini
    usage = admin_client.get(f"/ai/usage/?run={run.id}").content.decode()
    assert f'href="/runs/{run.id}/"' in usage
