"""Journey 6: the flagship build of journey 1, in Korean: every label the member clicks is
Korean, and the recipe is built, tested, published and run the same way."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from hub.engine.models import Run
from tests.browser import test_editor_build as flagship
from tests.browser.conftest import sign_in
from tests.browser.editor_kit import Person
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

# The same apps, fakes and worker as journey 1.
google, clickup, apps = flagship.google, flagship.clickup, flagship.apps
worker_env = flagship.worker_env

KO = {
    "new": "새 레시피",
    "add": "단계 추가",
    "find_emails": "이메일 찾기",
    "create_task": "작업 만들기",
    "send_message": "메시지 보내기",
    "message": "중요한 이메일로 작업을 만들었습니다.",
    "send_for_real": "실제로 보내기…",
    "yes_send": "네, 실제로 보냅니다",
    "sent": "보냈습니다. 앱의 응답:",
    "publish": "게시하고 켜기",
    "published": "버전 1 게시 완료",
    "run_now": "지금 실행",
    "succeeded": "성공",
}


def test_the_flagship_is_built_in_korean(
    page,
    live_server,
    workspace,
    member_user,
    apps,
    celery_worker_process,
    screenshot,
):
    slack, _google, clickup = apps
    page.set_default_timeout(30_000)
    sign_in(page, live_server, member_user.email, PASSWORD)
    page.context.add_cookies([{"name": "django_language", "value": "ko", "url": live_server.url}])
    who = Person(page, screenshot)
    flagship.build_flagship(page, live_server, who, clickup, KO)
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    expect(page.get_by_text("게시하기 전에")).to_have_count(0)
    screenshot("7-built")
    assert [m["text"] for m in slack.messages[slack.general]] == [KO["message"]]
    run = flagship.see_the_run_succeed(page, who, KO)
    screenshot("8-run")
    assert run.status == Run.Status.SUCCEEDED, run.error
    expect(page.get_by_text(KO["succeeded"]).first).to_be_visible()
    assert who.count == flagship.INTERACTIONS
