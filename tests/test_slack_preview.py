"""Slack's send_message previews the exact chat.postMessage request without making it."""

from __future__ import annotations

from integrations import registry
from integrations.base import Context
from tests.conftest import slack_connection


def test_preview_is_the_request_the_sdk_sends_and_sends_nothing(workspace, fake_slack):
    connection = slack_connection(workspace, fake_slack)
    slack = registry.get("slack")
    action = slack.action("send_message")
    config = {"channel": fake_slack.general, "text": "Hello 안녕", "thread_ts": "1718000000.1"}
    ctx = Context(
        workspace_id=workspace.id, config=config, connection=connection, integration=slack
    )
    before = len(fake_slack.log)
    preview = action.preview(ctx)
    assert len(fake_slack.log) == before, "a preview calls nothing"
    assert connection.access_token not in repr(preview)
    action.run(ctx)
    sent = fake_slack.calls("chat.postMessage")[-1]
    assert preview["method"] == sent.method == "POST"
    assert preview["url"] == fake_slack.origin + sent.path
    assert preview["body"] == sent.body
    assert sent.headers["content-type"] == preview["headers"]["Content-Type"]
    assert "authorization" not in {k.lower() for k in preview["headers"]}
