"""The UI in Korean and English: chosen from the browser's languages or by the language picker,
with a complete Korean catalogue whose compiled .mo is the one in the repository."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "locale" / "ko" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
KO = {"HTTP_ACCEPT_LANGUAGE": "ko"}


@pytest.fixture(autouse=True)
def default_language_afterwards():
    """A Korean request leaves Korean active in this thread; later tests expect English."""
    yield
    translation.deactivate()


def page(client, url: str, **headers) -> str:
    response = client.get(url, **headers)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_home_is_korean_for_a_korean_browser(admin_client):
    html = page(admin_client, "/", **KO)
    assert '<html lang="ko">' in html
    assert "레시피" in html
    assert "이 워크스페이스에 1명이 있습니다." in html
    assert "팀이 사용하는 앱을 연결하고" in html
    assert "Connect the apps your team uses" not in html


def test_home_stays_english_by_default(admin_client):
    html = page(admin_client, "/")
    assert '<html lang="en">' in html
    assert "Connect the apps your team uses" in html
    assert "레시피" not in html


def test_members_page_in_korean(admin_client):
    html = page(admin_client, reverse("members"), **KO)
    assert "<h1>멤버</h1>" in html
    assert "멤버 초대" in html
    assert "초대 보내기" in html


def test_connections_page_in_korean(member_client):
    html = page(member_client, reverse("connections"), **KO)
    assert "<h1>연결</h1>" in html
    assert "아직 연결된 앱이 없습니다" in html


def test_sign_in_page_in_korean_with_a_language_picker(client):
    html = page(client, reverse("account_login"), **KO)
    assert "로그인" in html
    assert f'action="{reverse("set_language")}"' in html
    assert '<option value="ko" lang="ko" selected>한국어</option>' in html


def test_system_status_in_korean(admin_client):
    html = page(admin_client, reverse("system_status"), **KO)
    assert "<h1>시스템 상태</h1>" in html
    assert "데이터베이스" in html
    assert "메시지 브로커" in html


def test_healthz_reasons_stay_english_for_monitors(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    body = client.get("/healthz", **KO).json()
    assert set(body) == {"database", "disk", "broker", "worker", "scheduler"}
    assert all(re.fullmatch(r"[\x00-\x7f]*", value) for value in body.values())


def test_admin_only_page_explains_itself_in_korean(member_client):
    response = member_client.get(reverse("audit_log"), **KO)
    assert response.status_code == 403
    assert "워크스페이스 관리자만 이 페이지를 열 수 있습니다." in response.content.decode()


def test_picker_in_account_menu_switches_to_english_and_back(admin_client):
    assert "레시피" in page(admin_client, "/", **KO)
    response = admin_client.post(reverse("set_language"), {"language": "en", "next": "/"}, **KO)
    assert response.status_code == 302
    assert response["Location"] == "/"
    html = page(admin_client, "/", **KO)
    assert "Connect the apps your team uses" in html
    assert '<option value="en" lang="en" selected>English</option>' in html

    admin_client.post(reverse("set_language"), {"language": "ko", "next": "/"})
    assert "레시피" in page(admin_client, "/")


def test_picker_refuses_a_foreign_next_address(admin_client):
    response = admin_client.post(
        reverse("set_language"), {"language": "en", "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


# The catalogue -----------------------------------------------------------------------------


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), text)


def read_po(path: Path) -> list[dict]:
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry: dict = {"flags": set()}
        key = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"].update(f.strip() for f in line[2:].split(","))
                continue
            if line.startswith("#"):
                continue
            match = re.match(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?) "(.*)"$', line)
            if match:
                key = match.group(1)
                entry[key] = _unquote(match.group(2))
            elif line.startswith('"') and key:
                entry[key] += _unquote(line[1:-1])
        if "msgid" in entry:
            entries.append(entry)
    return entries


def translations(entry: dict) -> list[str]:
    return [value for key, value in entry.items() if key.startswith("msgstr")]


PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-+ #0]*\d*(?:\.\d+)?[a-zA-Z%]|\{\{.*?\}\}|\{\w*\}")
MARKUP = re.compile(r"</?\w+[^>]*>")


@pytest.fixture(scope="module")
def catalogue() -> list[dict]:
    entries = read_po(PO)
    assert entries[0]["msgid"] == ""
    return entries[1:]


def test_catalogue_header_has_korean_plural_forms():
    header = read_po(PO)[0]["msgstr"]
    assert "Plural-Forms: nplurals=1; plural=0;" in header
    assert "Language: ko" in header
    assert "charset=UTF-8" in header


def test_every_message_is_translated_and_none_is_fuzzy(catalogue):
    assert len(catalogue) > 300
    untranslated = [e["msgid"] for e in catalogue if not all(s.strip() for s in translations(e))]
    fuzzy = [e["msgid"] for e in catalogue if "fuzzy" in e["flags"]]
    assert untranslated == []
    assert fuzzy == []


def test_plurals_use_the_single_korean_form(catalogue):
    plurals = [e for e in catalogue if "msgid_plural" in e]
    assert plurals
    for entry in plurals:
        assert set(k for k in entry if k.startswith("msgstr")) == {"msgstr[0]"}


def test_placeholders_and_markup_survive_translation(catalogue):
    problems = []
    for entry in catalogue:
        expected = sorted(PLACEHOLDER.findall(entry["msgid"]))
        tags = sorted(MARKUP.findall(entry["msgid"]))
        for text in translations(entry):
            if (
                sorted(PLACEHOLDER.findall(text)) != expected
                or sorted(MARKUP.findall(text)) != tags
            ):
                problems.append((entry["msgid"], text))
    assert problems == []


def test_committed_mo_matches_the_po(catalogue):
    with MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for entry in catalogue:
        key = entry["msgid"]
        if "msgctxt" in entry:
            key = f"{entry['msgctxt']}\x04{key}"
        if "msgid_plural" in entry:
            got = compiled.ngettext(key, entry["msgid_plural"], 1)
        else:
            got = compiled.gettext(key)
        if got != translations(entry)[0]:
            stale.append(entry["msgid"])
    assert stale == []


def test_python_messages_translate_with_their_values():
    with translation.override("ko"):
        text = translation.gettext("Invitation sent to %(email)s.") % {"email": "a@b.test"}
        count = translation.ngettext(
            "%(counter)s person in this workspace.", "%(counter)s people in this workspace.", 5
        ) % {"counter": 5}
    assert text == "a@b.test 님에게 초대를 보냈습니다."
    assert count == "이 워크스페이스에 5명이 있습니다."


def test_server_error_page_follows_the_active_language(rf):
    from hub.web.errors import server_error

    with translation.override("ko"):
        html = server_error(rf.get("/")).content.decode()
    assert '<html lang="ko">' in html
    assert "서버에서 문제가 발생했습니다" in html


# Recipe and run pages ------------------------------------------------------------------------


@pytest.fixture
def greeter(workspace, kit):
    from tests.conftest import make_recipe

    return make_recipe(
        workspace,
        [
            {
                "key": "say",
                "app": "kit",
                "action": "echo",
                "config": {"text": "Hi {{ trigger.name }}"},
            }
        ],
        trigger={"app": "webhook", "event": "catch"},
        name="Greeter",
    )


@pytest.fixture
def finished_run(greeter):
    from hub.engine.executor import execute
    from hub.engine.models import Run
    from hub.engine.runs import start_run

    run = start_run(greeter, Run.Source.MANUAL, {"name": "Ada"})
    execute(run.id)
    run.refresh_from_db()
    assert run.status == Run.Status.SUCCEEDED
    return run


def test_recipe_list_in_korean(member_client, finished_run):
    html = page(member_client, reverse("recipes"), **KO)
    assert "<h1>레시피</h1>" in html
    assert "레시피 가져오기" in html
    assert "지금 실행" in html
    assert "웹훅으로" in html
    assert ">켜짐</span>" in html
    assert ">성공</a>" in html
    assert "Run now" not in html


def test_empty_recipe_list_in_korean(member_client):
    html = page(member_client, reverse("recipes"), **KO)
    assert "아직 레시피가 없습니다" in html
    assert "연결로 이동" in html


def test_recipe_page_in_korean(admin_client, finished_run):
    html = page(admin_client, reverse("recipe_detail", args=[finished_run.recipe_id]), **KO)
    assert "<h2>시작 조건</h2>" in html
    assert "<h2>단계</h2>" in html
    assert "<h2>최근 실행</h2>" in html
    assert "다음 주소로 JSON을 POST로 보내세요:" in html
    assert "테스트 데이터 추가(선택 사항)" in html
    assert "<strong>현재 버전</strong>" in html
    assert "Recent runs" not in html


def test_runs_list_in_korean(member_client, finished_run):
    html = page(member_client, reverse("runs"), **KO)
    assert "<h1>실행 기록</h1>" in html
    assert '<option value="">모든 실행</option>' in html
    assert '<option value="failed">실패</option>' in html
    assert ">성공</span>" in html
    assert "<td>지금 실행</td>" in html
    assert "완료된 실행 기록은 30일 동안 보관됩니다." in html


def test_run_page_in_korean(member_client, finished_run):
    html = page(member_client, reverse("run_detail", args=[finished_run.pk]), **KO)
    assert f"<title>실행 #{finished_run.pk}" in html
    assert "<h2>단계</h2>" in html
    assert "<summary>시작한 데이터</summary>" in html
    assert "<h4>입력</h4>" in html and "<h4>출력</h4>" in html
    assert "JSON으로 보기" in html
    assert "시도 1" in html
    assert "Hi Ada" in html
    assert "Steps" not in html


def test_recipe_problems_in_korean(member_client, workspace, kit):
    import json

    document = {
        "format": "toolstack.recipe/1",
        "name": "Imported",
        "steps": [{"key": "a", "app": "kit", "action": "need", "config": {}}],
    }
    response = member_client.post(reverse("recipe_import"), {"text": json.dumps(document)}, **KO)
    assert response.status_code == 400
    html = response.content.decode()
    assert "레시피를 가져오지 못했습니다." in html
    assert "단계 “a”, 필드 “text”: " in html
    assert "필수 항목입니다." in html


def test_recipe_problems_stay_english_by_default(workspace, kit):
    from hub.recipes.format import RecipeFormatError, normalize

    with pytest.raises(RecipeFormatError) as caught:
        normalize({"format": "toolstack.recipe/1", "name": "x", "steps": [{"key": "a"}]})
    assert str(caught.value.problems[0]) == "In step “a”: A step needs “app”."
