"""Test trigger on a webhook, in the browser: the address with Copy ("Copied" said in a live
region), the card waiting for a call, and the call's data appearing the moment the test
posts it to the address — as labelled values that Insert data then offers."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest
from playwright.sync_api import expect

from hub.engine.models import Run
from hub.recipes.models import StepSample
from tests.browser.conftest import OUTPUT, sign_in
from tests.browser.editor_kit import Person
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def post_json(url: str, body: dict) -> int:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status


def test_test_trigger_waits_for_a_webhook_call_and_shows_its_data(
    browser, live_server, workspace, admin_user, request
):
    # Its own browser context, to allow the clipboard.
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    page.set_default_timeout(45_000)
    sign_in(page, live_server, admin_user.email, PASSWORD)
    page.goto(f"{live_server.url}/recipes/")
    OUTPUT.mkdir(parents=True, exist_ok=True)

    def screenshot(name: str) -> None:
        page.screenshot(path=str(OUTPUT / f"{request.node.name}-{name}.png"), full_page=True)

    who = Person(page, screenshot)
    who.click(page.get_by_role("button", name="New recipe"))
    page.wait_for_url(re.compile(r"/recipes/\d+/edit/$"))
    who.click(page.get_by_role("button", name="Change the trigger"))
    who.click(page.get_by_role("button", name="Webhook"))
    who.click(page.get_by_role("button", name="Test trigger"))

    result = page.locator("#trigger-result")
    expect(result).to_contain_text("Waiting for a call…")
    address = page.get_by_label("Webhook address")
    url = address.input_value()
    assert re.fullmatch(rf"{re.escape(live_server.url)}/hooks/[\w-]+/[\w-]+", url), url
    who.click(page.get_by_role("button", name="Copy"))
    expect(page.locator("#trigger-copy-status")).to_have_text("✓ Copied")
    assert page.evaluate("navigator.clipboard.readText()") == url
    who.check_axe("1-waiting")

    assert post_json(url, {"customer": "Ada Lovelace", "plan": "Team"}) == 202
    expect(result).to_contain_text("A call arrived. Its data:", timeout=30_000)
    expect(result).to_contain_text("Ada Lovelace")
    expect(result.locator(".listening")).to_have_count(0)  # it stopped waiting
    who.check_axe("2-call-arrived")
    sample = StepSample.objects.get(step_key="trigger")
    assert sample.output == {"customer": "Ada Lovelace", "plan": "Team"}
    assert not Run.objects.exists()  # the draft's test call started nothing

    # The call's data is what the next step may insert.
    who.click(page.get_by_role("button", name="Add a step"))
    who.click(page.get_by_role("button", name="Built-in tools"))
    who.click(page.get_by_role("button", name="Format text, numbers or dates"))
    who.click(page.locator("#step-formatter summary", has_text="More options"))
    who.click(page.locator('[data-insert-for="step-formatter-input"]'))
    expect(page.locator("#step-formatter-insert")).to_contain_text("Ada Lovelace")
    who.check_axe("3-insert-the-calls-data")
    context.close()
