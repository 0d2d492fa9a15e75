"""What the engine says about a run is stored as a message plus its parameters, so each
reader sees it in their own language; the English text stays for logs and the command line."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from hub.engine.executor import execute
from hub.engine.messages import Message, gettext_noop
from hub.engine.models import Run
from hub.engine.runs import cancel, start_run
from tests.conftest import make_recipe

KO = {"HTTP_ACCEPT_LANGUAGE": "ko"}


@pytest.fixture(autouse=True)
def default_language_afterwards():
    yield
    translation.deactivate()


def page(client, url: str, **headers) -> str:
    response = client.get(url, **headers)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def run_page(client, run, **headers) -> str:
    return page(client, reverse("run_detail", args=[run.pk]), **headers)


def one_step(workspace, action, config, key="call"):
    return make_recipe(workspace, [{"key": key, "app": "kit", "action": action, "config": config}])


# The message itself --------------------------------------------------------------------------


def test_a_message_is_english_text_and_translates_with_nested_parameters():
    inner = Message(gettext_noop("The run took longer than allowed."))
    message = Message(gettext_noop("Step “%(step)s”: %(detail)s"), step="post", detail=inner)
    assert str(message) == "Step “post”: The run took longer than allowed."
    with translation.override("ko"):
        assert message.translated() == "단계 “post”: 실행이 허용된 시간보다 오래 걸렸습니다."


def test_a_message_survives_its_json_column():
    message = Message(
        gettext_noop("Step “%(step)s”: %(detail)s"),
        step="post",
        detail=Message(gettext_noop("Carried over from run %(run)s."), run=7),
    )
    again = Message.from_json(message.to_json())
    assert again == message
    assert Message.from_json(None) is None
    assert Message.from_json({"params": {}}) is None


def test_a_translation_missing_a_placeholder_falls_back_to_english(monkeypatch):
    message = Message("Step “%(step)s”: %(detail)s", step="a", detail="x")
    assert message.render(lambda text: "%(nope)s") == "Step “a”: x"


# Run errors in the reader's language ---------------------------------------------------------


def test_a_failed_step_reads_in_each_readers_language(member_client, workspace, kit):
    kit.failures["call"] = 1
    recipe = one_step(workspace, "flaky", {"message": "No such channel", "permanent": True})
    run = start_run(recipe, Run.Source.MANUAL, {})
    assert execute(run.id) == "failed"
    run.refresh_from_db()
    assert run.error == "Step “call”: No such channel"
    assert "Step “call”: No such channel" in run_page(member_client, run)
    korean = run_page(member_client, run, **KO)
    assert "단계 “call”: No such channel" in korean
    assert "Step “call”" not in korean


def test_a_mapping_failure_names_the_step_and_field_once(member_client, workspace, kit):
    recipe = make_recipe(
        workspace,
        [{"key": "post", "app": "kit", "action": "echo", "config": {"text": "{{ trigger.who }}"}}],
    )
    run = start_run(recipe, Run.Source.MANUAL, {})
    assert execute(run.id) == "failed"
    run.refresh_from_db()
    assert run.error.startswith("Step “post”, field “text”: there is no “trigger.who”")
    assert run.error.count("post") == 1
    assert run.steps.get().error.startswith("Field “text”: there is no “trigger.who”")
    english = run_page(member_client, run)
    assert "Step “post”: Step" not in english
    korean = run_page(member_client, run, **KO)
    assert "단계 “post”, 필드 “text”: there is no “trigger.who”" in korean
    assert "Step “post”" not in korean and "Field “text”" not in korean


def test_giving_up_and_retrying_read_in_korean(member_client, workspace, kit, settings):
    settings.ENGINE_MAX_ATTEMPTS = 2
    kit.failures["call"] = 5
    recipe = one_step(workspace, "flaky", {"message": "busy"})
    run = start_run(recipe, Run.Source.MANUAL, {})
    assert execute(run.id) == "waiting"
    korean = run_page(member_client, run, **KO)
    assert "busy — " in korean and "초 뒤에 다시 시도합니다" in korean
    assert "trying again" not in korean
    Run.objects.filter(id=run.id).update(resume_at=timezone.now())
    assert execute(run.id) == "failed"
    run.refresh_from_db()
    assert run.error == "Step “call”: busy (gave up after 2 attempts)"
    korean = run_page(member_client, run, **KO)
    assert "단계 “call”: busy (2번 시도한 끝에 멈췄습니다)" in korean
    assert "gave up" not in korean


def test_a_step_timeout_reads_in_korean(member_client, workspace, kit, settings):
    settings.ENGINE_STEP_TIMEOUT_SECONDS = 0.2
    recipe = one_step(workspace, "slow", {"seconds": 2})
    run = start_run(recipe, Run.Source.MANUAL, {})
    assert execute(run.id) == "waiting"
    assert run.steps.get().error.startswith("The step took longer than 0.2 s.")
    assert "단계가 0.2초 넘게 걸렸습니다." in run_page(member_client, run, **KO)


def test_an_unexpected_error_reads_in_korean(member_client, workspace, kit):
    run = start_run(one_step(workspace, "boom", {}), Run.Source.MANUAL, {})
    assert execute(run.id) == "failed"
    korean = run_page(member_client, run, **KO)
    assert "단계 “call”: 예상하지 못한 오류(RuntimeError): a bug" in korean


def test_the_run_deadline_reads_in_korean(member_client, workspace, kit):
    run = start_run(one_step(workspace, "echo", {}), Run.Source.MANUAL, {})
    Run.objects.filter(id=run.id).update(deadline=timezone.now() - timedelta(seconds=1))
    assert execute(run.id) == "failed"
    run.refresh_from_db()
    assert run.error == "The run took longer than allowed."
    assert "실행이 허용된 시간보다 오래 걸렸습니다." in run_page(member_client, run, **KO)


def test_a_cancelled_run_reads_in_korean(member_client, workspace, kit):
    run = start_run(one_step(workspace, "echo", {}), Run.Source.MANUAL, {})
    assert cancel(run)
    assert run.error == "Cancelled."
    korean = run_page(member_client, run, **KO)
    assert "실행을 취소했습니다." in korean and "Cancelled." not in korean


def test_an_older_row_without_a_message_shows_its_text(member_client, workspace, kit):
    run = start_run(one_step(workspace, "echo", {}), Run.Source.MANUAL, {})
    Run.objects.filter(id=run.id).update(
        status=Run.Status.FAILED, error="Written before messages existed.", error_message=None
    )
    assert "Written before messages existed." in run_page(member_client, run, **KO)


def test_a_paused_recipe_says_why_in_korean(admin_client, workspace, fake_slack):
    from tests.conftest import slack_connection, slack_step

    connection = slack_connection(workspace, fake_slack)
    recipe = make_recipe(workspace, [slack_step(fake_slack.general)])
    fake_slack.revoke_token(connection.access_token)
    run = start_run(recipe, Run.Source.MANUAL, {"name": "x"})
    assert execute(run.id) == "failed"
    recipe.refresh_from_db()
    assert recipe.paused_reason.startswith("The connection “Acme Slack” needs reconnecting")
    korean = page(admin_client, reverse("recipe_detail", args=[recipe.pk]), **KO)
    assert "연결 “Acme Slack”을 다시 연결해야 합니다" not in korean  # no particle guesses
    assert "“Acme Slack” 연결을 다시 연결해야 합니다" in korean
    assert "needs reconnecting" not in korean
    korean_run = run_page(admin_client, run, **KO)
    assert "단계 “notify”: 연결을 다시 연결해야 합니다" in korean_run


def test_a_long_parameter_is_stored_shortened():
    message = Message(gettext_noop("Step “%(step)s”: %(detail)s"), step="a", detail="x" * 50_000)
    stored = message.to_json()["params"]["detail"]
    assert len(stored) == 5000 and stored.endswith("…")
