"""The AI steps on each provider's fake, driven by the real SDKs through the engine: answers,
typed extraction with one repair, classification, summaries of long input, and each
provider's errors turned into retry, reconnect or a message a member can act on."""

from __future__ import annotations

import pytest
from django.utils import timezone

from hub.connections.models import Connection
from hub.engine.executor import execute
from hub.engine.models import Run
from hub.engine.runs import start_run
from hub.llm.models import LLMCall
from tests.conftest import make_recipe
from tests.llm_support import (
    EMAIL,
    FIELDS,
    MODELS,
    llm_recipe,
    llm_step,
    openai_fake,  # noqa: F401  (a fixture)
    provider,  # noqa: F401  (a fixture)
    provider_connection,
    start_fake,
)

pytestmark = pytest.mark.django_db


def run_once(recipe, body=EMAIL):
    run = start_run(recipe, Run.Source.MANUAL, {"body": body})
    status = execute(run.id)
    run.refresh_from_db()
    return run, status


def completion_calls(slug, fake):
    route = {"anthropic": "messages.create", "gemini": "models.generateContent"}
    return fake.calls(route.get(slug, "chat.completions"))


def test_ask_answers_and_records_one_call(workspace, provider):
    slug, fake = provider
    recipe = llm_recipe(workspace, slug, "ask", instructions="Say what the email asks for.")
    run, status = run_once(recipe)
    assert status == "succeeded", run.error
    assert run.steps.get().output == {"text": "Answer: Hi team,"}
    [call] = LLMCall.objects.all()
    assert (call.provider, call.model_requested, call.status) == (slug, MODELS[slug], "ok")
    assert call.run_id == run.id and call.recipe_id == recipe.id and call.step_key == "ai"
    assert call.input_total > 0 and call.output > 0
    assert call.model_answered and call.finish_reason
    assert len(completion_calls(slug, fake)) == 1


def test_extract_gives_each_field_typed(workspace, provider):
    slug, fake = provider
    recipe = llm_recipe(
        workspace, slug, "extract", instructions="Who does what by when?", fields=FIELDS
    )
    run, status = run_once(recipe)
    assert status == "succeeded", run.error
    assert run.steps.get().output == {
        "assignee_email": "mina@acme.test",
        "task": "Prepare the Q3 board report",
        "due_date": "2026-12-04",
        "priority": "urgent",
        "tags": ["finance", "board"],
    }
    # The provider's native structured output was asked for.
    body = completion_calls(slug, fake)[0].body
    if slug in ("openai", "openai_compatible"):
        assert body["response_format"]["type"] == "json_schema"
        assert body["response_format"]["json_schema"]["strict"] is True
    elif slug == "anthropic":
        assert body["tool_choice"] == {"type": "tool", "name": "extracted_fields"}
    else:
        schema = body["generationConfig"]["responseSchema"]
        assert schema["properties"]["priority"]["enum"][:2] == ["urgent", "high"]


def test_later_steps_map_extracted_fields_keeping_types(workspace, openai_fake, kit):
    recipe = make_recipe(
        workspace,
        [
            llm_step("openai", "extract", key="extract", fields=FIELDS),
            {
                "key": "echo",
                "app": "kit",
                "action": "echo",
                "config": {
                    "items": "{{ steps.extract.tags }}",
                    "text": "{{ steps.extract.due_date }}",
                },
            },
        ],
    )
    run, status = run_once(recipe)
    assert status == "succeeded", run.error
    assert kit.calls == [("echo", {"items": ["finance", "board"], "text": "2026-12-04"})]


def test_extract_repairs_an_invalid_answer_once(workspace, provider):
    slug, fake = provider
    fake.invalid_next(1)
    recipe = llm_recipe(workspace, slug, "extract", fields=FIELDS)
    run, status = run_once(recipe)
    assert status == "succeeded", run.error
    assert run.steps.get().output["task"] == "Prepare the Q3 board report"
    assert list(LLMCall.objects.order_by("id").values_list("purpose", flat=True)) == [
        "answer",
        "repair",
    ]
    # The repair told the model what was wrong.
    repair = completion_calls(slug, fake)[1].body
    assert "does not match the required format" in str(repair)


def test_extract_fails_with_the_problems_after_two_invalid_answers(workspace, provider):
    slug, fake = provider
    fake.invalid_next(2)
    recipe = llm_recipe(workspace, slug, "extract", fields=FIELDS)
    run, status = run_once(recipe)
    assert status == "failed"
    assert "even after a second try" in run.error and "'task' is a required property" in run.error
    assert LLMCall.objects.count() == 2
    assert len(completion_calls(slug, fake)) == 2


def test_dates_are_read_in_the_recipes_time_zone(workspace, openai_fake):
    fields = [{"name": "meeting", "type": "datetime", "required": True}]
    recipe = llm_recipe(workspace, "openai", "extract", fields=fields)
    # The recipe's zone is UTC here (neither the file nor the workspace names one).
    run, status = run_once(recipe, "Meeting: 2026-12-04T09:00:00+09:00")
    assert status == "succeeded", run.error
    assert run.steps.get().output == {"meeting": "2026-12-04T00:00:00+00:00"}


def test_classify_always_answers_one_of_the_labels(workspace, provider):
    slug, _fake = provider
    labels = [
        {"label": "urgent", "description": "someone is blocked"},
        {"label": "normal"},
        {"label": "spam"},
    ]
    recipe = llm_recipe(workspace, slug, "classify", labels=labels)
    run, status = run_once(recipe)
    assert status == "succeeded", run.error
    output = run.steps.get().output
    assert output["label"] == "urgent" and output["reason"]


def test_summarize_keeps_to_the_word_limit(workspace, provider):
    slug, _fake = provider
    recipe = llm_recipe(workspace, slug, "summarize", max_words=6)
    run, status = run_once(recipe)
    assert status == "succeeded", run.error
    summary = run.steps.get().output["summary"]
    assert summary.startswith("Summary:") and len(summary.split()) <= 6


def test_summarize_splits_input_longer_than_the_context(workspace, settings):
    fake = start_fake("openai_compatible")
    try:
        provider_connection(workspace, "openai_compatible", fake)
        paragraph = "The board met and agreed the plan for the quarter. " * 40 + "\n\n"
        text = paragraph * 20  # ~41,000 characters: well over llama3's 8,192 tokens
        step = llm_step("openai_compatible", "summarize", max_words=20)
        step["config"]["model"] = "llama3:8b"
        recipe = make_recipe(workspace, [step])
        run, status = run_once(recipe, text)
        assert status == "succeeded", run.error
        calls = fake.calls("chat.completions")
        purposes = list(LLMCall.objects.order_by("id").values_list("purpose", flat=True))
        assert purposes[-1] == "combine" and purposes.count("chunk") == len(calls) - 1 >= 2
        assert all(c.status == 200 for c in calls)
        assert len(run.steps.get().output["summary"].split()) <= 20
    finally:
        fake.stop()


def test_rate_limit_waits_for_retry_after_and_counts_each_attempt(workspace, provider):
    slug, fake = provider
    fake.rate_limit("*", retry_after=30)
    recipe = llm_recipe(workspace, slug, "ask")
    run, status = run_once(recipe)
    assert status == "waiting"
    assert (run.resume_at - timezone.now()).total_seconds() > 29
    Run.objects.filter(id=run.id).update(resume_at=timezone.now())
    assert execute(run.id) == "succeeded"
    statuses = list(LLMCall.objects.order_by("id").values_list("status", "cost"))
    assert [s for s, _c in statuses] == ["error", "ok"]
    assert statuses[0][1] in (None, 0)  # a refused attempt used no tokens


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_retried(workspace, openai_fake, status):
    openai_fake.fail_next("chat.completions", status=status)
    run, result = run_once(llm_recipe(workspace, "openai", "ask"))
    assert result == "waiting"
    assert "busy or unavailable" in run.steps.get().error


def test_anthropic_overloaded_is_retried(workspace, settings):
    fake = start_fake("anthropic")
    try:
        settings.ANTHROPIC_BASE_URL = fake.origin
        provider_connection(workspace, "anthropic", fake)
        fake.fail_next("messages.create", status=529)
        run, result = run_once(llm_recipe(workspace, "anthropic", "ask"))
        assert result == "waiting"
        assert "Overloaded" in run.steps.get().error
    finally:
        fake.stop()


def test_a_refused_key_marks_the_connection_for_a_new_key(workspace, provider):
    slug, _fake = provider
    if slug == "openai_compatible":
        pytest.skip("a keyless local server refuses no key")
    connection = Connection.objects.get(integration=slug)
    connection.access_token = "wrong-key"
    connection.save()
    run, status = run_once(llm_recipe(workspace, slug, "ask"))
    assert status == "failed"
    connection.refresh_from_db()
    assert connection.status == Connection.Status.NEEDS_RECONNECT
    assert "new key" in run.error


def test_input_too_long_for_the_model_fails_with_what_to_do(workspace, provider):
    slug, fake = provider
    for model in fake.models:
        fake.models[model] = (*fake.models[model][:1], 50, *fake.models[model][2:])
    run, status = run_once(llm_recipe(workspace, slug, "ask"), "word " * 400)
    assert status == "failed"
    assert "too long for this model" in run.error and "Send less text" in run.error


def test_a_refusal_fails_with_a_message(workspace, provider):
    slug, _fake = provider
    run, status = run_once(llm_recipe(workspace, slug, "extract", fields=FIELDS), "[[refuse]]")
    assert status == "failed"
    assert "refused to answer" in run.error


def test_a_model_the_admins_did_not_allow_is_refused_without_a_call(workspace, settings):
    fake = start_fake("openai")
    try:
        settings.OPENAI_BASE_URL = fake.base_url
        provider_connection(workspace, "openai", fake, allowed=["gpt-4.1-mini"])
        run, status = run_once(llm_recipe(workspace, "openai", "ask"))
        assert status == "failed"
        assert "not available on “OpenAI”" in run.error and "gpt-4.1-mini" in run.error
        assert fake.calls("chat.completions") == []
    finally:
        fake.stop()


def test_a_replay_does_not_repeat_completed_llm_steps(workspace, openai_fake, kit):
    from hub.engine.runs import replay

    kit.failures["flaky"] = 1
    recipe = make_recipe(
        workspace,
        [
            llm_step("openai", "ask", key="ask"),
            {"key": "flaky", "app": "kit", "action": "flaky", "config": {"permanent": True}},
        ],
    )
    run, status = run_once(recipe)
    assert status == "failed"
    again = replay(run)
    assert execute(again.id) == "succeeded"
    assert LLMCall.objects.count() == 1
    assert len(openai_fake.calls("chat.completions")) == 1


def test_publishing_refuses_a_reference_to_a_field_not_extracted(workspace, openai_fake):
    from hub.recipes.format import RecipeFormatError
    from hub.recipes.services import import_recipe

    document = {
        "format": "toolstack.recipe/1",
        "name": "Typo",
        "trigger": {"app": "manual"},
        "steps": [
            llm_step("openai", "extract", key="extract", fields=FIELDS),
            llm_step("openai", "ask", key="ask", input="{{ steps.extract.due_dat }}"),
        ],
    }
    with pytest.raises(RecipeFormatError) as refused:
        import_recipe(workspace, document, publish=True)
    assert "did you mean “steps.extract.due_date”" in str(refused.value)
