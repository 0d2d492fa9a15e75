"""Journey 5: every change is saved to the draft as it is made; a reload mid-edit, with no
Save button pressed and the field still focused, loses nothing."""

from __future__ import annotations

from urllib.parse import unquote_plus

import pytest
from playwright.sync_api import expect

from hub.recipes.models import Recipe
from tests.browser.conftest import sign_in
from tests.browser.editor_kit import Person
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_typing_is_saved_without_a_save_button_and_survives_a_reload(
    page, live_server, workspace, admin_user, screenshot
):
    page.set_default_timeout(30_000)
    sign_in(page, live_server, admin_user.email, PASSWORD)
    page.goto(f"{live_server.url}/recipes/")
    who = Person(page, screenshot)
    who.click(page.get_by_role("button", name="New recipe"))
    who.click(page.get_by_role("button", name="Add a step"))
    who.click(page.get_by_role("button", name="Built-in tools"))
    who.click(page.get_by_role("button", name="Format text, numbers or dates"))
    who.choose(page.get_by_label("Operation"), "Text: capitals")
    who.click(page.locator("#step-formatter summary", has_text="More options"))
    value = page.get_by_role("textbox", name="Value")

    # Typed, not blurred: the save follows the pause in typing.
    def saves_it_whole(response) -> bool:
        # A pause mid-word on a busy machine saves "quart" first; wait for the whole value.
        sent = unquote_plus(response.request.post_data or "")
        return "/edit/steps/formatter/" in response.url and "quarterly report" in sent

    with page.expect_response(saves_it_whole):
        value.press_sequentially("quarterly report", delay=20)
    expect(page.locator("#save-state")).to_contain_text("Saved")
    expect(value).to_be_focused()
    who.check_axe("1-typed")
    page.reload()
    expect(page.locator("#step-formatter-input")).to_have_value("quarterly report")
    expect(page.get_by_label("Operation")).to_have_value("text_upper")
    screenshot("2-reloaded")
    draft = Recipe.objects.get().draft
    assert draft["steps"][0]["config"] == {"operation": "text_upper", "input": "quarterly report"}
    assert Recipe.objects.get().current_version is None  # a draft, nothing published
