"""What the Notion tests share: the fake bound to the settings, a connection to it, and a
step run through the registry as the engine runs it."""

from __future__ import annotations

import pytest

from integrations import registry
from integrations.base import Context, IntegrationError
from tests.fakes.notion import FakeNotion


@pytest.fixture
def fake_notion(settings):
    with FakeNotion() as fake:
        for key, value in fake.settings().items():
            setattr(settings, key, value)
        yield fake


@pytest.fixture
def conn(workspace, fake_notion):
    from hub.connections.models import Connection

    connection = Connection(workspace=workspace, integration="notion", label="Acme Notion")
    connection.set_tokens(fake_notion.issue_token(), None, None)
    connection.save()
    return connection


def context(conn, timezone: str = "UTC", **config) -> Context:
    return Context(
        workspace_id=conn.workspace_id,
        config=config,
        connection=conn,
        integration=registry.get("notion"),
        timezone=timezone,
    )


def run(conn, key, timezone: str = "UTC", **config):
    return registry.get("notion").action(key).run(context(conn, timezone, **config))


def preview(conn, key, timezone: str = "UTC", **config):
    return registry.get("notion").action(key).preview(context(conn, timezone, **config))


def fails(conn, key, **config) -> IntegrationError:
    with pytest.raises(IntegrationError) as caught:
        run(conn, key, **config)
    return caught.value


TASKS_SCHEMA = {
    "Name": "title",
    "Notes": "rich_text",
    "Points": "number",
    "Priority": ("select", ["High", "Low"]),
    "Tags": ("multi_select", ["bug", "ui"]),
    "Stage": ("status", ["Not started", "In progress", "Done"]),
    "Due": "date",
    "Owner": "people",
    "Urgent": "checkbox",
    "Link": "url",
    "Contact": "email",
    "Phone": "phone_number",
}
