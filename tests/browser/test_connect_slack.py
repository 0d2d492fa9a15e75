"""An admin connects Slack through the fake in a real browser and sees the team name."""

from __future__ import annotations

import pytest

from hub.connections.models import Connection
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD
from tests.fakes.slack import FakeSlack
from tests.test_connections_support import point_at


@pytest.mark.django_db(transaction=True)
def test_an_admin_connects_slack_and_sees_the_team_name(
    live_server, settings, admin_user, page, screenshot
):
    page.set_default_timeout(30_000)
    with FakeSlack() as slack:
        point_at(settings, slack)
        settings.HUB_BASE_URL = live_server.url
        sign_in(page, live_server, admin_user.email, PASSWORD)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Connections").click()
        screenshot("1-list")
        page.get_by_role("button", name="Connect Slack").wait_for()
        page.goto(f"{live_server.url}/connections/apps/slack/")
        assert page.input_value("#redirect-uri") == f"{live_server.url}/connections/slack/callback/"
        screenshot("2-setup")
        page.get_by_role("button", name="Connect Slack").click()
        page.wait_for_selector("#allow")
        screenshot("3-consent")
        page.click("#allow")
        page.wait_for_url(f"{live_server.url}/connections/*/")
        screenshot("4-connected")
        assert page.get_by_role("heading", level=1).inner_text() == "Acme"
        assert "Slack is connected as “Acme”" in page.content()
        page.get_by_role("button", name="Test connection").click()
        page.wait_for_selector(".flash-success")
        assert "Connected to Acme" in page.inner_text(".flashes")
        screenshot("5-tested")
        conn = Connection.objects.get()
        assert conn.label == "Acme" and conn.status == "active"
        assert conn.access_token not in page.content()
