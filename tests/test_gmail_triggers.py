"""The Gmail triggers' polls against the fake Gmail: history paging, the exact re-check of the
member's search, the resync after Gmail forgets a historyId, and the mail that never fires."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from integrations.base import Context, PollRequest
from integrations.gmail.app import GmailIntegration
from tests.fakes.gmail import FakeGoogle

GMAIL = GmailIntegration()


@pytest.fixture
def google(settings):
    with FakeGoogle() as fake:
        settings.GMAIL_API_URL = fake.base_url
        yield fake


def poll(fake, key, request: PollRequest, **config):
    token = fake.issue_token(("https://www.googleapis.com/auth/gmail.modify",))
    connection = SimpleNamespace(pk=1, label=fake.email, fresh_token=lambda: token)
    ctx = Context(workspace_id=1, config=config, connection=connection, integration=GMAIL)
    return GMAIL.trigger(key).poll(ctx, request)


def drain(fake, key, cursor, limit=100, **config):
    """Poll until nothing is left; every item fired, in order, and the polls it took."""
    fired, seen, polls = [], set(), 0
    while True:
        result = poll(fake, key, PollRequest(cursor, limit, frozenset(seen)), **config)
        polls += 1
        fired += result.items
        seen |= {i.id for i in result.items}
        cursor = result.cursor
        if not result.more:
            return fired, cursor, polls


def test_seed_fires_nothing_old_and_marks_the_current_history(google):
    google.deliver("a@x.test", subject="old")
    result = poll(google, "new_email", PollRequest(mode="seed"), query="")
    assert result.items == []
    assert result.cursor["history_id"] == str(google.history_id)
    google.deliver("b@x.test", subject="new")
    fired, _cursor, _ = drain(google, "new_email", result.cursor)
    assert [i.data["subject"] for i in fired] == ["new"]


def test_new_email_outputs_what_get_email_does_with_the_id(google):
    cursor = poll(google, "new_email", PollRequest(mode="seed")).cursor
    sent = google.deliver(
        "Minji <minji@acme.test>", subject="납품 일정", body="금요일까지 가능할까요?"
    )
    [item] = drain(google, "new_email", cursor)[0]
    assert item.id == sent["id"]
    assert item.data["id"] == sent["id"]
    out = GMAIL.action("get_email").run(
        Context(
            workspace_id=1,
            config={"message_id": sent["id"]},
            connection=SimpleNamespace(pk=1, label=google.email, fresh_token=google.issue_token),
            integration=GMAIL,
        )
    )
    assert {k: v for k, v in item.data.items() if k != "id"} == out
    assert item.data["body_clean"].startswith("금요일까지")


def test_query_is_rechecked_by_gmail_exactly(google):
    cursor = poll(google, "new_email", PollRequest(mode="seed")).cursor
    wanted = google.deliver("boss@acme.test", subject="Plan", labels=("INBOX", "IMPORTANT"))
    promotion = ("INBOX", "IMPORTANT", "CATEGORY_PROMOTIONS")
    google.deliver("shop@promo.test", subject="Sale", labels=promotion)
    google.deliver("friend@acme.test", subject="Lunch", labels=("INBOX",))
    fired, _, _ = drain(google, "new_email", cursor, query="is:important -category:promotions")
    assert [i.id for i in fired] == [wanted["id"]]
    searches = [c.query.get("q", [""])[0] for c in google.calls("messages.list")]
    assert searches and all("rfc822msgid:" in q for q in searches)


def test_drafts_sent_and_scheduled_mail_never_fire(google):
    cursor = poll(google, "new_email", PollRequest(mode="seed")).cursor
    google.deliver("me@acme.test", subject="draft", labels=("DRAFT",))
    google.deliver("me@acme.test", subject="sent", labels=("SENT",))
    google.deliver("me@acme.test", subject="later", labels=("SCHEDULED",))
    google.deliver("me@acme.test", subject="spam", labels=("SPAM",))
    arrived = google.deliver("client@acme.test", subject="real")
    fired, _, _ = drain(google, "new_email", cursor)
    assert [i.id for i in fired] == [arrived["id"]]
    assert len(google.calls("messages.get")) == 1


def test_a_burst_comes_in_bounded_polls_oldest_first_each_once(google):
    # 500 through the whole hub: tests/test_polling.py.
    cursor = poll(google, "new_email", PollRequest(mode="seed")).cursor
    burst = google.burst(150)
    fired, _, polls = drain(google, "new_email", cursor, limit=50, query="subject:order")
    assert [i.id for i in fired] == [m["id"] for m in burst]
    assert polls == 3
    # Each added message fetched once, and re-checked 20 to a search.
    assert len(google.calls("messages.get")) == 150
    assert len(google.calls("messages.list")) == 9


def test_history_pages_are_all_read(google):
    cursor = poll(google, "new_email", PollRequest(mode="seed")).cursor
    burst = google.burst(30)
    from integrations.gmail import mail_sync

    mail_sync_page = mail_sync.HISTORY_PAGE
    mail_sync.HISTORY_PAGE = 7
    try:
        fired, cursor, _ = drain(google, "new_email", cursor)
    finally:
        mail_sync.HISTORY_PAGE = mail_sync_page
    assert [i.id for i in fired] == [m["id"] for m in burst]
    assert len(google.calls("history.list")) == 5  # 30 records, 7 a page
    assert cursor["history_id"] == str(google.history_id)


def test_stale_history_resyncs_without_firing_seen_mail_again(google):
    cursor = poll(google, "new_email", PollRequest(mode="seed")).cursor
    first = google.deliver("a@acme.test", subject="first")
    fired, cursor, _ = drain(google, "new_email", cursor)
    assert [i.id for i in fired] == [first["id"]]
    late = [google.deliver("b@acme.test", subject=f"late {n}") for n in range(3)]
    google.expire_history()
    result = poll(google, "new_email", PollRequest(cursor, 100, frozenset({first["id"]})))
    assert [i.id for i in result.items] == [m["id"] for m in late]
    assert google.calls("history.list")[-1].status == 404
    # Back on history afterwards, from where the resync began.
    after = google.deliver("c@acme.test", subject="after")
    fired, _, _ = drain(google, "new_email", result.cursor)
    assert [i.id for i in fired] == [after["id"]]


def test_resync_is_bounded_and_continues_over_polls(google):
    cursor = poll(google, "new_email", PollRequest(mode="seed")).cursor
    burst = google.burst(120)
    google.expire_history()
    fired, _, polls = drain(google, "new_email", cursor, limit=50)
    assert [i.id for i in fired] == [m["id"] for m in burst]
    assert polls == 3


def test_labeled_email_fires_when_the_label_is_added(google):
    label = google.add_label("Invoices")
    cursor = poll(google, "new_labeled_email", PollRequest(mode="seed"), label="Invoices").cursor
    message = google.deliver("billing@acme.test", subject="Invoice 42")
    google.deliver("billing@acme.test", subject="Other")
    filtered_in = google.deliver("billing@acme.test", subject="Filtered", labels=("INBOX", label))
    token = google.issue_token()
    import requests

    requests.post(
        f"{google.base_url}/users/me/messages/{message['id']}/modify",
        json={"addLabelIds": [label]},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    ).raise_for_status()
    fired, _, _ = drain(google, "new_labeled_email", cursor, label="Invoices")
    assert [i.id for i in fired] == [filtered_in["id"], message["id"]]
    assert label in fired[1].data["labels"]


def test_test_mode_returns_the_newest_real_items_newest_first(google):
    for n in range(5):
        google.deliver("a@acme.test", subject=f"mail {n}")
    google.deliver("me@acme.test", subject="a draft", labels=("DRAFT",))
    result = poll(google, "new_email", PollRequest(limit=3, mode="test"))
    assert [i.data["subject"] for i in result.items] == ["mail 4", "mail 3", "mail 2"]
    assert google.calls("history.list") == []
