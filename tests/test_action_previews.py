"""Write actions preview the exact request they would send — token left out — without sending
it: "Test step" can show a member what would happen before anything happens."""

from __future__ import annotations

import base64
import email
from email import policy
from types import SimpleNamespace

import pytest

from integrations import registry
from integrations.base import Context
from tests.conftest import slack_connection
from tests.fakes.gmail import FakeGoogle

pytestmark = pytest.mark.django_db


def slack_ctx(workspace, fake_slack, **config):
    slack = registry.get("slack")
    connection = slack_connection(workspace, fake_slack)
    return connection, Context(
        workspace_id=workspace.id, config=config, connection=connection, integration=slack
    )


def test_slack_edit_and_reaction_previews_are_the_requests_then_sent(workspace, fake_slack):
    posted = (
        fake_slack.post_as_bot(fake_slack.general, "first draft")
        if hasattr(fake_slack, "post_as_bot")
        else None
    )
    connection, ctx = slack_ctx(workspace, fake_slack, channel=fake_slack.general, text="hi")
    sent = registry.get("slack").action("send_message").run(ctx)
    ts = posted["ts"] if posted else sent["ts"]
    for key, config, method in (
        (
            "update_message",
            {"channel": fake_slack.general, "ts": ts, "text": "fixed"},
            "chat.update",
        ),
        (
            "add_reaction",
            {"channel": fake_slack.general, "ts": ts, "emoji": ":tada:"},
            "reactions.add",
        ),
    ):
        action = registry.get("slack").action(key)
        ctx.config = config
        before = len(fake_slack.log)
        preview = action.preview(ctx)
        assert len(fake_slack.log) == before, "a preview calls nothing"
        assert connection.access_token not in repr(preview)
        action.run(ctx)
        request = fake_slack.calls(method)[-1]
        assert preview["url"] == fake_slack.origin + request.path
        assert preview["body"] == request.body


def test_slack_direct_message_preview_calls_nothing_even_for_an_email(workspace, fake_slack):
    _connection, ctx = slack_ctx(workspace, fake_slack, user="ada@acme.test", text="Your task")
    before = len(fake_slack.log)
    preview = registry.get("slack").action("send_direct_message").preview(ctx)
    assert len(fake_slack.log) == before
    assert preview["url"].endswith("chat.postMessage")
    assert preview["body"]["text"] == "Your task"
    opening, posted = preview["requests"]
    assert posted == {k: v for k, v in preview.items() if k != "requests"}
    assert opening["url"].endswith("conversations.open")
    assert "ada@acme.test" in opening["body"]["users"]


@pytest.fixture
def google(settings):
    with FakeGoogle() as fake:
        settings.GMAIL_API_URL = fake.base_url
        yield fake


def gmail_ctx(fake, **config):
    token = fake.issue_token(("https://www.googleapis.com/auth/gmail.modify",))
    connection = SimpleNamespace(pk=1, label=fake.email, fresh_token=lambda: token)
    gmail = registry.get("gmail")
    return token, Context(workspace_id=1, config=config, connection=connection, integration=gmail)


def decoded(raw: str):
    return email.message_from_bytes(base64.urlsafe_b64decode(raw + "=="), policy=policy.default)


@pytest.mark.parametrize("key", ["send_email", "create_draft"])
def test_gmail_send_and_draft_previews_send_nothing(google, key):
    token, ctx = gmail_ctx(google, to="minji@acme.test", subject="납품 일정", body="금요일?")
    preview = registry.get("gmail").action(key).preview(ctx)
    assert (google.calls("messages.send") == [] and google.drafts == {}) or not google.drafts
    assert token not in repr(preview)
    raw = preview["body"]["raw"] if key == "send_email" else preview["body"]["message"]["raw"]
    message = decoded(raw)
    assert message["Subject"] == "납품 일정"
    assert message["To"] == "minji@acme.test"


def test_gmail_reply_preview_reads_the_original_but_sends_nothing(google):
    original = google.deliver("김민지 <minji.kim@acme.test>", subject="납품 일정", body="확인?")
    _token, ctx = gmail_ctx(google, message_id=original["id"], body="네")
    preview = registry.get("gmail").action("reply_to_email").preview(ctx)
    assert google.calls("messages.send") == [], "it reads the original, and sends nothing"
    assert preview["body"]["threadId"] == original["threadId"]
    reply = decoded(preview["body"]["raw"])
    assert reply["Subject"] == "Re: 납품 일정"
    assert reply["In-Reply-To"] == google.mail(original["id"])["Message-ID"]
