"""Gmail's label actions against the fake Gmail: add (creating a missing label), remove, mark
as read, archive — each one messages.modify call — the label picker, previews and errors."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from integrations.base import Context, IntegrationError
from integrations.gmail.app import GmailIntegration
from integrations.gmail.labels import label_choices
from tests.fakes.gmail import FakeGoogle

GMAIL = GmailIntegration()


@pytest.fixture
def google(settings):
    with FakeGoogle() as fake:
        settings.GMAIL_API_URL = fake.base_url
        yield fake


def context(fake: FakeGoogle, **config) -> Context:
    token = fake.issue_token(("https://www.googleapis.com/auth/gmail.modify",))
    connection = SimpleNamespace(pk=1, label=fake.email, fresh_token=lambda: token)
    return Context(workspace_id=1, config=config, connection=connection, integration=GMAIL)


def run(fake: FakeGoogle, key: str, **config):
    return GMAIL.action(key).run(context(fake, **config))


def test_add_an_existing_label_by_name(google):
    clients = google.add_label("Clients")
    email = google.deliver("minji@acme.test", subject="견적", body="확인 부탁드립니다")
    out = run(google, "add_label", message_id=email["id"], label="clients")
    assert clients in out["labels"] and "INBOX" in out["labels"]
    assert google.calls("labels.create") == []
    [call] = google.calls("messages.modify")
    assert call.body == {"addLabelIds": [clients]}


def test_add_a_missing_label_creates_it_once(google):
    email = google.deliver("minji@acme.test", subject="견적", body="확인")
    out = run(google, "add_label", message_id=email["id"], label="Needs reply")
    [created] = google.calls("labels.create")
    assert created.body["name"] == "Needs reply"
    new_id = next(i for i, lbl in google.user_labels.items() if lbl["name"] == "Needs reply")
    assert new_id in out["labels"]
    again = google.deliver("ops@acme.test", subject="Second", body="hi")
    run(google, "add_label", message_id=again["id"], label="Needs reply")
    assert len(google.calls("labels.create")) == 1, "the label now exists: not created again"


def test_a_missing_label_without_create_says_to_pick_one(google):
    email = google.deliver("minji@acme.test", subject="x", body="y")
    with pytest.raises(IntegrationError) as caught:
        run(google, "add_label", message_id=email["id"], label="Nope", create_missing=False)
    assert caught.value.permanent and "no label “Nope”" in caught.value.message
    assert google.calls("messages.modify") == []


def test_remove_label_mark_as_read_and_archive(google):
    clients = google.add_label("Clients")
    email = google.deliver("minji@acme.test", subject="x", body="y", labels=("INBOX", "UNREAD"))
    run(google, "add_label", message_id=email["id"], label=clients)
    assert (
        clients not in run(google, "remove_label", message_id=email["id"], label=clients)["labels"]
    )
    assert "UNREAD" not in run(google, "mark_as_read", message_id=email["id"])["labels"]
    out = run(google, "archive_email", message_id=email["id"])
    assert "INBOX" not in out["labels"]
    bodies = [c.body for c in google.calls("messages.modify")]
    assert bodies[-2:] == [{"removeLabelIds": ["UNREAD"]}, {"removeLabelIds": ["INBOX"]}]


def test_an_unknown_email_is_a_permanent_error(google):
    with pytest.raises(IntegrationError) as caught:
        run(google, "mark_as_read", message_id="18c0000000000000")
    assert caught.value.permanent


def test_a_429_is_retried_after_what_gmail_said(google):
    email = google.deliver("minji@acme.test", subject="x", body="y")
    google.rate_limit("messages.modify", retry_after=7)
    with pytest.raises(IntegrationError) as caught:
        run(google, "archive_email", message_id=email["id"])
    assert caught.value.retryable and caught.value.retry_after == 7


def test_label_picker_lists_user_labels_and_settable_system_labels(google):
    google.add_label("Clients")
    google.add_label("Invoices")
    page = label_choices(context(google), "", None)
    labels = [c.label for c in page.choices]
    assert "Clients" in labels and "Invoices" in labels and "Starred" in labels
    assert "Sent" not in labels and "Category_social" not in labels
    assert [c.label for c in label_choices(context(google), "inv", None).choices] == ["Invoices"]
    assert len(google.calls("labels.list")) == 2


def test_previews_send_nothing_and_match_what_is_then_sent(google):
    email = google.deliver("minji@acme.test", subject="x", body="y")
    ctx = context(google, message_id=email["id"], label="Follow up")
    preview = GMAIL.action("add_label").preview(ctx)
    assert google.calls("labels.create") == [] and google.calls("messages.modify") == []
    creating, modifying = preview["requests"]
    assert creating["body"]["name"] == "Follow up"
    assert modifying["body"] == {"addLabelIds": ["(the new label)"]}
    GMAIL.action("add_label").run(ctx)
    [created] = google.calls("labels.create")
    assert created.body == creating["body"]
    ctx = context(google, message_id=email["id"])
    preview = GMAIL.action("archive_email").preview(ctx)
    GMAIL.action("archive_email").run(ctx)
    sent = google.calls("messages.modify")[-1]
    assert preview["body"] == sent.body
    assert preview["url"] == google.origin + sent.path
