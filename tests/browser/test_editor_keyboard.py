"""Journey 7: a two-step recipe built with the keyboard alone (Tab, Enter, typing): focus
lands on the new part of the page after every swap, Insert data works from the keyboard,
and publishing needs no mouse."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from hub.recipes.models import Recipe
from tests.browser.conftest import sign_in
from tests.browser.editor_kit import axe_violations
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

NAME_OF_FOCUSED = """() => {
  const el = document.activeElement;
  if (!el) return "";
  const label = el.labels && el.labels.length ? el.labels[0].textContent : "";
  const text = (el.textContent || "").slice(0, 120);
  return [el.getAttribute("aria-label") || "", label, text].join(" ");
}"""


def tab_to(page, name: str, limit: int = 120) -> int:
    """Press Tab until the focused control's name holds ``name``; returns the presses."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if name in page.evaluate(NAME_OF_FOCUSED):
            return presses
    raise AssertionError(f"Tab never reached “{name}”")


def saved_after(page, action) -> None:
    with page.expect_response(lambda r: "/edit/" in r.url and r.request.method == "POST"):
        action()
    page.wait_for_load_state("networkidle")


def build_formatter(page, add: str, operation: str, value: str) -> None:
    tab_to(page, add)
    saved_after(page, lambda: page.keyboard.press("Enter"))
    expect(page.get_by_text("Choose the app").last).to_be_focused()
    tab_to(page, "Built-in tools")
    saved_after(page, lambda: page.keyboard.press("Enter"))
    expect(page.get_by_text("What should it do?")).to_be_focused()
    tab_to(page, "Format text, numbers or dates")
    saved_after(page, lambda: page.keyboard.press("Enter"))
    # Once the card's fields are drawn, focus lands on its heading: start from there.
    heading = page.get_by_role("heading", name=re.compile("Format text, numbers or dates$"))
    expect(heading.last).to_be_focused()
    tab_to(page, "Operation")
    saved_after(page, lambda: page.keyboard.type(operation))
    tab_to(page, "More options")
    page.keyboard.press("Enter")
    tab_to(page, "Value")
    saved_after(page, lambda: page.keyboard.type(value))


def test_a_two_step_recipe_is_built_and_published_with_the_keyboard_only(
    page, live_server, workspace, admin_user, screenshot
):
    page.set_default_timeout(30_000)
    sign_in(page, live_server, admin_user.email, PASSWORD)
    page.goto(f"{live_server.url}/recipes/")
    tab_to(page, "New recipe")
    page.keyboard.press("Enter")
    page.wait_for_url("**/edit/")

    build_formatter(page, "Add a step", "Text: capitals", "hello ")
    build_formatter(page, "Add a step", "Text: small", "Loud: ")
    # Insert data from the keyboard: the list opens with focus on its first entry.
    tab_to(page, "Insert data")
    page.keyboard.press("Enter")
    item = page.locator('#step-formatter_2-insert .insert-item[data-ref="steps.formatter.output"]')
    expect(page.locator("#step-formatter_2-insert .insert-item").first).to_be_focused()
    screenshot("1-insert-data")
    assert axe_violations(page) == []
    while not item.evaluate("el => el === document.activeElement"):
        page.keyboard.press("Tab")
    saved_after(page, lambda: page.keyboard.press("Enter"))
    expect(page.get_by_role("textbox", name="Value").last).to_be_focused()
    expect(page.locator('[data-chips-for="step-formatter_2-input"] .chip')).to_have_count(1)

    tab_to(page, "Publish and turn on")
    page.keyboard.press("Enter")
    expect(page.locator("#publish-panel")).to_contain_text("Published version 1")
    screenshot("2-published")
    assert axe_violations(page) == []
    steps = Recipe.objects.get().current_version.document["steps"]
    assert [s["config"] for s in steps] == [
        {"operation": "text_upper", "input": "hello "},
        {"operation": "text_lower", "input": "Loud: {{ steps.formatter.output }}"},
    ]
