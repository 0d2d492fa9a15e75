"""What the editor's browser journeys share: apps behind the fakes with connections ready,
an interaction counter (a click, a choice or one typed value each count once), axe-core
checks, and waiting for the editor's autosave."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from hub.connections.models import Connection

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
BLOCKING = ("serious", "critical")


def connect(workspace, integration: str, label: str, token: str) -> Connection:
    connection = Connection(workspace=workspace, integration=integration, label=label)
    connection.set_tokens(token, None, None)
    connection.save()
    return connection


def axe_violations(page) -> list[dict]:
    """Serious and critical axe-core violations on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result["violations"]
        if v["impact"] in BLOCKING
    ]


class Person:
    """Drives the page as a person would and counts what they do."""

    def __init__(self, page, shoot=None):
        self.page = page
        self.count = 0
        self.shoot = shoot
        self.axe_checks = 0

    def click(self, locator):
        self.count += 1
        locator.click()
        return locator

    def fill(self, locator, text: str):
        """Type a value; waits until the draft saved it (the change, not a Save button)."""
        self.count += 1
        with self.page.expect_response(lambda r: "/edit/" in r.url and r.request.method == "POST"):
            locator.fill(text)
            locator.blur()
        self.saved()

    def choose(self, locator, label: str):
        self.count += 1
        option = locator.locator("option", has_text=label)
        expect(option).to_have_count(1)
        value = option.get_attribute("value")
        with self.page.expect_response(lambda r: "/edit/" in r.url and r.request.method == "POST"):
            locator.select_option(value=value)
        self.saved()

    def saved(self):
        expect(self.page.locator("#save-state")).to_have_text(re.compile("Saved|저장됨"))
        self.page.wait_for_load_state("networkidle")

    def check_axe(self, name: str = ""):
        self.axe_checks += 1
        found = axe_violations(self.page)
        assert found == [], (name, found)
        if self.shoot and name:
            self.shoot(name)
