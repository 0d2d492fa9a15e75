"""An admin connects Slack through the fake in a real browser and sees the team name."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hub.connections.models import Connection
from tests.conftest import PASSWORD
from tests.fakes.slack import FakeSlack
from tests.test_connections_support import point_at

OUT = Path(__file__).resolve().parents[2] / "test-output"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def browser_page():
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        page.set_default_timeout(15_000)
        yield page
        browser.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_admin_connects_slack_and_sees_the_team_name(
    live_server, settings, admin_user, browser_page
):
    OUT.mkdir(exist_ok=True)
    page = browser_page
    with FakeSlack() as slack:
        point_at(settings, slack)
        settings.HUB_BASE_URL = live_server.url
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=login]", admin_user.email)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Connections").click()
        page.screenshot(path=OUT / "connect-1-list.png", full_page=True)
        page.get_by_role("button", name="Connect Slack").wait_for()
        page.goto(f"{live_server.url}/connections/apps/slack/")
        assert page.input_value("#redirect-uri") == f"{live_server.url}/connections/slack/callback/"
        page.screenshot(path=OUT / "connect-2-setup.png", full_page=True)
        page.get_by_role("button", name="Connect Slack").click()
        page.wait_for_selector("#allow")
        page.screenshot(path=OUT / "connect-3-consent.png")
        page.click("#allow")
        page.wait_for_url(f"{live_server.url}/connections/*/")
        page.screenshot(path=OUT / "connect-4-connected.png", full_page=True)
        assert page.get_by_role("heading", level=1).inner_text() == "Acme"
        assert "Slack is connected as “Acme”" in page.content()
        page.get_by_role("button", name="Test connection").click()
        page.wait_for_selector(".flash-success")
        assert "Connected to Acme" in page.inner_text(".flashes")
        page.screenshot(path=OUT / "connect-5-tested.png", full_page=True)
        conn = Connection.objects.get()
        assert conn.label == "Acme" and conn.status == "active"
        assert conn.access_token not in page.content()
