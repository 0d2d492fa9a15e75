import pytest

from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_admin_signs_in_and_opens_every_section(page, live_server, admin_user, screenshot):
    sign_in(page, live_server, admin_user.email, PASSWORD)
    nav = page.get_by_role("navigation", name="Main")
    for section in ("Recipes", "Runs", "Connections", "Members", "System status"):
        assert nav.get_by_role("link", name=section).is_visible()
    screenshot("home")

    for section, heading in [
        ("Recipes", "No recipes yet"),
        ("Runs", "Nothing has run yet"),
        ("Connections", "No apps connected yet"),
        ("Members", "Invite someone"),
        ("System status", "System status"),
    ]:
        nav.get_by_role("link", name=section).click()
        page.wait_for_load_state()
        assert page.get_by_role("heading", name=heading).first.is_visible()
        assert page.locator("nav a[aria-current=page]").inner_text() == section
        screenshot(section.lower().replace(" ", "-"))


def test_wrong_password_says_so(page, live_server, admin_user):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(admin_user.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign In").click()
    assert page.get_by_text("not correct").is_visible()


def test_admin_invites_a_member_from_the_members_page(page, live_server, admin_user, screenshot):
    from django.core import mail

    sign_in(page, live_server, admin_user.email, PASSWORD)
    page.goto(f"{live_server.url}/members/")
    page.get_by_label("Email address").fill("zoe@acme.test")
    page.get_by_role("button", name="Send invitation").click()
    assert page.get_by_text("Invitation sent to zoe@acme.test").is_visible()
    screenshot("invited")
    assert page.get_by_text("zoe@acme.test · Member").is_visible()
    assert mail.outbox[-1].to == ["zoe@acme.test"]
    screenshot("invited")
