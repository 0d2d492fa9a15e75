"""Sentences a person can act on, in English and Korean: imports, problems, the recipe and
run pages, dates and durations, POST-only addresses and invitations."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone, translation

from hub.accounts.models import Invite, Membership
from hub.engine.executor import execute
from hub.engine.models import Run
from hub.engine.runs import cancel, start_run
from tests.conftest import PASSWORD, make_recipe, make_user

KO = {"HTTP_ACCEPT_LANGUAGE": "ko"}
PO = Path(__file__).resolve().parent.parent / "locale" / "ko" / "LC_MESSAGES" / "django.po"


@pytest.fixture(autouse=True)
def default_language_afterwards():
    yield
    translation.deactivate()


def text_of(html: str) -> str:
    """What a reader sees: the page's text without tags, spaces collapsed."""
    main = html[html.find("<main") :] if "<main" in html else html
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


def get(client, url, status=200, **headers) -> str:
    response = client.get(url, **headers)
    assert response.status_code == status, response.status_code
    return response.content.decode()


def recipe_file(steps, name="Imported", trigger=None) -> str:
    document = {"format": "toolstack.recipe/1", "name": name, "steps": steps}
    if trigger:
        document["trigger"] = trigger
    return json.dumps(document)


def import_text(client, text, **headers):
    return client.post(reverse("recipe_import"), {"text": text}, **headers)


# Importing -----------------------------------------------------------------------------------


def test_an_empty_import_says_the_file_is_empty(member_client):
    response = import_text(member_client, "")
    assert response.status_code == 400
    html = response.content.decode()
    assert "The file is empty: choose a recipe file or paste its text." in html
    assert "Expecting value" not in html
    korean = import_text(member_client, "  \n", **KO).content.decode()
    assert "파일이 비어 있습니다. 레시피 파일을 고르거나 내용을 붙여 넣으세요." in korean
    assert "Expecting value" not in korean


def test_a_broken_file_says_where_it_breaks(member_client):
    html = import_text(member_client, '{"name": "x",\n  oops}').content.decode()
    assert "The file is not valid JSON: look at line 2, column 3." in html
    assert "Expecting" not in html and "char " not in html
    korean = import_text(member_client, "{bad", **KO).content.decode()
    assert "올바른 JSON 파일이 아닙니다. 1번째 줄 2번째 글자를 확인하세요." in korean


def test_an_empty_file_on_the_command_line(workspace, tmp_path):
    path = tmp_path / "empty.json"
    path.write_text("")
    with pytest.raises(CommandError, match="The file is empty") as caught:
        call_command("recipes", "import", str(path))
    assert "Expecting value" not in str(caught.value)


def test_an_unknown_app_is_blamed_on_the_app(member_client, kit):
    steps = [{"key": "a", "app": "nope", "action": "send", "config": {}}]
    html = import_text(member_client, recipe_file(steps)).content.decode()
    assert "In step “a”, field “app”: There is no app called “nope”." in html
    assert "field “action”" not in html
    korean = import_text(member_client, recipe_file(steps), **KO).content.decode()
    assert "단계 “a”, 필드 “app”: “nope” 앱은 없습니다." in korean


def test_an_unknown_action_is_blamed_on_the_action(member_client, kit):
    steps = [{"key": "a", "app": "kit", "action": "nope", "config": {}}]
    html = import_text(member_client, recipe_file(steps)).content.decode()
    assert "In step “a”, field “action”: Kit has no action “nope”." in html


def test_a_step_that_uses_its_own_output_is_told_so(member_client, kit):
    steps = [{"key": "a", "app": "kit", "action": "echo", "config": {"text": "{{ steps.a.text }}"}}]
    html = import_text(member_client, recipe_file(steps)).content.decode()
    assert (
        "“steps.a” is the output of this same step; use data from the trigger or from earlier steps"
        in html
    )
    assert "runs after this step" not in html


def test_a_later_step_is_still_called_later(member_client, kit):
    steps = [
        {"key": "a", "app": "kit", "action": "echo", "config": {"text": "{{ steps.b.text }}"}},
        {"key": "b", "app": "kit", "action": "echo", "config": {}},
    ]
    html = import_text(member_client, recipe_file(steps)).content.decode()
    assert "“steps.b” runs after this step" in html


def test_a_missing_connection_is_said_once_and_publishing_is_not_offered(admin_client):
    steps = [
        {
            "key": "post",
            "app": "slack",
            "action": "send_message",
            "connection": "Acme Slack",
            "config": {"channel": "C1", "text": "hi"},
        }
    ]
    response = admin_client.post(
        reverse("recipe_import"), {"text": recipe_file(steps, "Needs Slack")}, follow=True
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("Connect Slack as “Acme Slack” under Connections") == 1
    assert "Publish and turn on" not in html
    assert "Imported “Needs Slack” as a draft" in html
    korean = get(admin_client, response.redirect_chain[-1][0], **KO)
    assert korean.count("“Acme Slack”") >= 1
    assert "게시하고 켜기" not in korean


# Recipe and run pages ------------------------------------------------------------------------


@pytest.fixture
def greeter(workspace, kit):
    return make_recipe(
        workspace,
        [{"key": "say", "app": "kit", "action": "echo", "config": {"text": "Hi"}}],
        name="Greeter",
    )


def test_the_current_version_is_not_called_running(member_client, greeter):
    url = reverse("recipe_detail", args=[greeter.pk])
    english = text_of(get(member_client, url))
    assert "v1 · now · current version" in english
    assert "running" not in english
    korean = text_of(get(member_client, url, **KO))
    assert "현재 버전" in korean and "실행 중" not in korean


def test_a_cancelled_run_offers_to_go_on_not_to_replay_a_failed_step(member_client, greeter, kit):
    run = start_run(greeter, Run.Source.MANUAL, {})
    cancel(run)
    html = get(member_client, reverse("run_detail", args=[run.pk]))
    assert "Replay from the failed step" not in html
    assert "Run again from where it stopped" in html
    korean = get(member_client, reverse("run_detail", args=[run.pk]), **KO)
    assert "중단된 곳부터 다시 실행" in korean
    response = member_client.post(reverse("run_replay", args=[run.pk]), follow=True)
    assert "Running again from where it stopped." in response.content.decode()
    assert "Replaying from the failed step" not in response.content.decode()


def test_a_failed_run_still_offers_replay_from_the_failed_step(member_client, workspace, kit):
    kit.failures["call"] = 1
    recipe = make_recipe(
        workspace, [{"key": "call", "app": "kit", "action": "flaky", "config": {"permanent": True}}]
    )
    run = start_run(recipe, Run.Source.MANUAL, {})
    execute(run.id)
    assert "Replay from the failed step" in get(member_client, reverse("run_detail", args=[run.pk]))


def test_the_next_fire_time_is_in_the_recipes_zone(member_client, workspace, kit):
    recipe = make_recipe(
        workspace,
        [{"key": "say", "app": "kit", "action": "echo", "config": {}}],
        trigger={
            "app": "schedule",
            "event": "daily",
            "config": {"at": "09:30", "timezone": "Asia/Seoul"},
        },
    )
    url = reverse("recipe_detail", args=[recipe.pk])
    english = text_of(get(member_client, url))
    assert re.search(r"next \d+ \w{3} \d{4}, 09:30 \(Asia/Seoul\)", english), english
    korean = text_of(get(member_client, url, **KO))
    assert re.search(r"다음 실행 \d{4}년 \d+월 \d+일 오전 9:30 \(Asia/Seoul\)", korean), korean


def test_waiting_until_ends_with_one_full_stop(member_client, workspace, kit):
    recipe = make_recipe(
        workspace, [{"key": "pause", "app": "kit", "action": "wait", "config": {"seconds": 600}}]
    )
    run = start_run(recipe, Run.Source.MANUAL, {})
    assert execute(run.id) == "waiting"
    Run.objects.filter(id=run.id).update(resume_at=datetime(2026, 12, 1, 7, 13, tzinfo=UTC))
    english = text_of(get(member_client, reverse("run_detail", args=[run.pk])))
    assert "Waiting until 1 Dec 2026, 07:13 UTC." in english
    assert ".." not in english
    korean = text_of(get(member_client, reverse("run_detail", args=[run.pk]), **KO))
    assert "2026년 12월 1일 오전 7:13 UTC까지 대기합니다." in korean


def test_dates_are_whole_and_durations_read_as_durations(member_client, greeter):
    run = start_run(greeter, Run.Source.MANUAL, {})
    execute(run.id)
    started = datetime(2026, 12, 1, 7, 13, tzinfo=UTC)
    Run.objects.filter(id=run.id).update(
        created_at=started, started_at=started, finished_at=started + timedelta(seconds=21)
    )
    run.steps.update(duration_ms=1500)
    url = reverse("run_detail", args=[run.pk])
    english = text_of(get(member_client, url))
    assert "1 Dec 2026, 07:13 UTC · took 21 s" in english
    assert "1.5 s" in english
    korean = text_of(get(member_client, url, **KO))
    assert "2026년 12월 1일 오전 7:13 UTC · 21초 걸림" in korean
    assert "1.5초" in korean
    assert "21000 ms" not in english + korean
    listing = text_of(get(member_client, reverse("runs"), **KO))
    assert " 21초 " in listing and "21초 전" not in listing


def test_durations_of_minutes_and_hours():
    from hub.web.templatetags.when import duration

    assert [duration(ms) for ms in (0, 850, 21_000, 125_000, 3_720_000)] == [
        "0 ms",
        "850 ms",
        "21 s",
        "2 min 5 s",
        "1 h 2 min",
    ]
    with translation.override("ko"):
        assert duration(125_000) == "2분 5초" and duration(3_720_000) == "1시간 2분"


# A POST-only address opened in the browser -------------------------------------------------


def test_get_on_a_post_only_address_is_a_friendly_page(member_client, greeter):
    response = member_client.get(reverse("recipe_publish", args=[greeter.pk]))
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    html = response.content.decode()
    assert '<html lang="en">' in html and "Toolstack Hub" in html
    assert "This address is used by a button, not opened directly." in html
    korean = member_client.get(reverse("run_cancel", args=[1]), **KO).content.decode()
    assert "이 주소는 버튼으로 보내는 곳이라 직접 열 수 없습니다." in korean


# Invitations ---------------------------------------------------------------------------------


def invite(client, email="zoe@acme.test", **headers):
    return client.post(
        reverse("invite_member"), {"email": email, "role": "member"}, follow=True, **headers
    )


def waiting_rows(html: str, email: str) -> int:
    section = html.split("Waiting for an answer", 1)[1] if "Waiting for an answer" in html else ""
    return section.count(email)


def test_inviting_an_address_twice_leaves_one_invite(admin_client, workspace):
    invite(admin_client)
    first_link = mail.outbox[-1].body
    page = invite(admin_client).content.decode()
    assert "A new invitation was sent to zoe@acme.test; the earlier link no longer works." in page
    assert Invite.objects.filter(workspace=workspace).pending().count() == 1
    assert waiting_rows(page, "zoe@acme.test") == 1
    first_path = re.search(r"/invites/\S+/", first_link).group(0)
    admin_client.logout()
    assert admin_client.get(first_path).status_code == 410


def test_an_accepted_invite_leaves_no_waiting_row(client, admin_user, workspace):
    _, token = Invite.issue(workspace, "zoe@acme.test", "member", admin_user)
    # A second link made before invites replaced each other.
    Invite.objects.create(
        workspace=workspace,
        email="zoe@acme.test",
        role="member",
        token_hash="0" * 64,
        invited_by=admin_user,
        expires_at=timezone.now() + timedelta(days=7),
    )
    done = client.post(
        reverse("accept_invite", args=[token]),
        {"first_name": "Zoe", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert done.status_code == 302
    client.force_login(admin_user)
    page = get(client, reverse("members"))
    assert "zoe@acme.test" in page
    assert waiting_rows(page, "zoe@acme.test") == 0
    assert Invite.objects.filter(workspace=workspace).pending().count() == 0


def test_someone_who_joined_another_way_has_no_waiting_row(admin_client, admin_user, workspace):
    Invite.issue(workspace, "kim@acme.test", "member", admin_user)
    make_user("kim@acme.test", workspace, Membership.Role.MEMBER)
    assert waiting_rows(get(admin_client, reverse("members")), "kim@acme.test") == 0


# The Korean catalogue ------------------------------------------------------------------------


def test_korean_sentences_do_not_hedge_particles():
    hedges = re.compile(r"\((?:을|를|이|가|은|는|으|와|과)\)")
    found = [line for line in PO.read_text(encoding="utf-8").splitlines() if hedges.search(line)]
    assert found == []


def test_the_invitation_email_and_role_change_read_naturally_in_korean(admin_client, member_user):
    invite(admin_client, "lee@acme.test", **KO)
    assert "(으)" not in mail.outbox[-1].body
    membership = Membership.objects.get(user=member_user)
    page = admin_client.post(
        reverse("change_role", args=[membership.pk]), {"role": "admin"}, follow=True, **KO
    ).content.decode()
    assert "Max 님의 역할이 이제 관리자입니다." in page
