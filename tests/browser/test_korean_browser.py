import pytest

from tests.browser.conftest import OUTPUT
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def korean_page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ko-KR")
    page = context.new_page()
    yield page
    context.close()


def test_korean_browser_gets_the_korean_ui_and_can_switch_to_english(
    korean_page, live_server, admin_user
):
    page = korean_page
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.goto(f"{live_server.url}/accounts/login/")
    assert page.locator("html").get_attribute("lang") == "ko"
    page.locator("input[name=login]").fill(admin_user.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="로그인").click()
    page.wait_for_url(f"{live_server.url}/")

    nav = page.get_by_role("navigation", name="주 메뉴")
    for section in ("레시피", "실행 기록", "연결", "멤버", "시스템 상태"):
        assert nav.get_by_role("link", name=section).is_visible()
    assert page.get_by_text("이 워크스페이스에 1명이 있습니다.").is_visible()
    page.screenshot(path=str(OUTPUT / "korean-home.png"), full_page=True)

    page.locator("details.menu summary").click()
    with page.expect_navigation():
        page.get_by_label("언어").select_option("en")
    assert page.locator("html").get_attribute("lang") == "en"
    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link", name="Recipes").is_visible()
    page.screenshot(path=str(OUTPUT / "korean-switched-to-english.png"), full_page=True)
