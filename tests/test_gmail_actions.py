"""Gmail's actions through the hub's Gmail client against the fake Gmail, which parses every
message it receives with the ``email`` package: the assertions are on real headers and decoded
bodies, as the recipient's mail app would show them."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from types import SimpleNamespace

import pytest
from django.utils import translation

from integrations.base import Context, IntegrationError
from integrations.gmail import mime
from integrations.gmail.app import GmailIntegration
from tests.fakes.gmail import FakeGoogle

GMAIL = GmailIntegration()


@pytest.fixture
def google(settings):
    with FakeGoogle() as fake:
        settings.GMAIL_API_URL = fake.base_url
        yield fake


def run(fake: FakeGoogle, key: str, **config):
    token = fake.issue_token(("https://www.googleapis.com/auth/gmail.modify",))
    connection = SimpleNamespace(pk=1, label=fake.email, fresh_token=lambda: token)
    ctx = Context(workspace_id=1, config=config, connection=connection, integration=GMAIL)
    return GMAIL.action(key).run(ctx)


KOREAN_SUBJECT = "다음 주 납품 일정 확인 부탁드립니다 — 견적서 첨부"
KOREAN_BODY = "안녕하세요 김민지님,\n\n금요일까지 납품 가능할까요?\n감사합니다."


def test_send_email_arrives_with_korean_subject_and_body_intact(google):
    out = run(
        google,
        "send_email",
        to="김민지 <minji.kim@acme.test>, ops-team@acme.test",
        cc=["lead@acme.test"],
        bcc="audit@acme.test",
        subject=KOREAN_SUBJECT,
        body=KOREAN_BODY,
        reply_to="support@acme.test",
    )
    assert set(out) == {"id", "thread_id"} and out["id"] == out["thread_id"]
    mail = google.mail(out["id"])
    assert mail["Subject"] == KOREAN_SUBJECT
    assert [a.addr_spec for a in mail["To"].addresses] == [
        "minji.kim@acme.test",
        "ops-team@acme.test",
    ]
    assert mail["To"].addresses[0].display_name == "김민지"
    assert str(mail["Cc"]) == "lead@acme.test" and str(mail["Bcc"]) == "audit@acme.test"
    assert str(mail["Reply-To"]) == "support@acme.test"
    assert mail.get_content_type() == "text/plain"
    assert mail.get_content().rstrip("\n") == KOREAN_BODY
    [call] = google.calls("messages.send")
    assert "threadId" not in call.body


def test_send_email_with_html_is_multipart_alternative(google):
    out = run(
        google,
        "send_email",
        to="minji.kim@acme.test",
        subject="주간 보고",
        body="평문 본문",
        html_body="<p>HTML <b>본문</b></p>",
    )
    mail = google.mail(out["id"])
    assert mail.get_content_type() == "multipart/alternative"
    assert mail.get_body(("plain",)).get_content().strip() == "평문 본문"
    assert mail.get_body(("html",)).get_content().strip() == "<p>HTML <b>본문</b></p>"


def test_a_subject_with_line_breaks_is_sent_on_one_line(google):
    out = run(google, "send_email", to="a@acme.test", subject="요약:\n 주문 확인\r\n", body="b")
    assert google.mail(out["id"])["Subject"] == "요약: 주문 확인"


def test_create_draft_stores_a_draft_not_a_sent_message(google):
    out = run(google, "create_draft", to="minji.kim@acme.test", subject="초안", body="검토 후 발송")
    assert google.drafts[out["draft_id"]] == out["id"]
    assert google.messages[out["id"]]["labelIds"] == ["DRAFT"]
    assert google.mail(out["id"]).get_content().strip() == "검토 후 발송"
    assert google.calls("messages.send") == []


def test_a_bad_recipient_fails_the_step_with_words_a_member_can_act_on(google):
    with pytest.raises(IntegrationError) as caught:
        run(google, "send_email", to="minji.kim at acme", subject="x", body="y")
    error = caught.value
    assert error.permanent and not error.retryable
    assert "Invalid To header" in error.message
    assert "name@example.com" in error.message
    assert google.messages == {}


def test_the_bad_recipient_message_is_in_korean_for_a_korean_team(google):
    with translation.override("ko"), pytest.raises(IntegrationError) as caught:
        run(google, "send_email", to="minji.kim at acme", subject="x", body="y")
    assert "Gmail이 수신자를 거부했습니다(Invalid To header)" in caught.value.message


def test_a_429_is_retried_after_what_gmail_said(google):
    google.rate_limit("messages.send", retry_after=7)
    with pytest.raises(IntegrationError) as caught:
        run(google, "send_email", to="minji.kim@acme.test", subject="x", body="y")
    assert caught.value.retryable and caught.value.retry_after == 7
    assert google.messages == {}


def test_gmail_s_403_user_rate_limit_is_retried(google):
    google.user_rate_limit("messages.list")
    with pytest.raises(IntegrationError) as caught:
        run(google, "find_emails", query="is:unread")
    assert caught.value.retryable


def test_a_revoked_token_asks_for_reauthorisation(google):
    token = google.issue_token()
    google.revoke_token(token)
    connection = SimpleNamespace(pk=1, label=google.email, fresh_token=lambda: token)
    ctx = Context(1, {"message_id": "abc"}, connection=connection, integration=GMAIL)
    with pytest.raises(IntegrationError) as caught:
        GMAIL.action("get_email").run(ctx)
    assert caught.value.reauth


def test_a_missing_scope_says_to_reconnect(google):
    token = google.issue_token(("https://www.googleapis.com/auth/gmail.send",))
    connection = SimpleNamespace(pk=1, label=google.email, fresh_token=lambda: token)
    ctx = Context(1, {"message_id": "abc"}, connection=connection, integration=GMAIL)
    with pytest.raises(IntegrationError) as caught:
        GMAIL.action("get_email").run(ctx)
    assert caught.value.permanent and "Reconnect Gmail" in caught.value.message


def test_reply_threads_with_in_reply_to_references_and_one_re(google):
    original = google.deliver(
        "김민지 <minji.kim@acme.test>",
        subject="RE: 납품 일정",
        body="확인 부탁드립니다.",
        cc="lead@acme.test, ops@acme.test",
        headers={"References": "<first@acme.test>"},
    )
    first = google.mail(original["id"])
    out = run(google, "reply_to_email", message_id=original["id"], body="네, 금요일 가능합니다.")
    assert out["thread_id"] == original["threadId"]
    reply = google.mail(out["id"])
    assert reply["Subject"] == "RE: 납품 일정"
    assert reply["In-Reply-To"] == first["Message-ID"]
    assert reply["References"] == f"<first@acme.test> {first['Message-ID']}"
    assert [a.addr_spec for a in reply["To"].addresses] == ["minji.kim@acme.test"]
    assert reply["Cc"] is None
    assert reply.get_content().strip() == "네, 금요일 가능합니다."
    [call] = google.calls("messages.send")
    assert call.body["threadId"] == original["threadId"]


def test_reply_all_copies_everyone_but_this_mailbox(google):
    original = google.deliver(
        "minji.kim@acme.test", subject="Delivery", body="?", cc="lead@acme.test, ops@acme.test"
    )
    out = run(google, "reply_to_email", message_id=original["id"], body="Yes", reply_all=True)
    reply = google.mail(out["id"])
    assert reply["Subject"] == "Re: Delivery"
    assert [a.addr_spec for a in reply["Cc"].addresses] == ["lead@acme.test"]


def test_a_reply_to_a_sent_email_goes_to_its_recipients(google):
    sent = run(google, "send_email", to="minji.kim@acme.test", subject="견적", body="첨부합니다")
    out = run(google, "reply_to_email", message_id=sent["id"], body="추가로 말씀드리면")
    reply = google.mail(out["id"])
    assert [a.addr_spec for a in reply["To"].addresses] == ["minji.kim@acme.test"]
    assert reply["Subject"] == "Re: 견적" and out["thread_id"] == sent["thread_id"]


def test_reply_to_an_unknown_email_says_it_cannot_be_found(google):
    with pytest.raises(IntegrationError) as caught:
        run(google, "reply_to_email", message_id="18c0000000000abc", body="x")
    assert caught.value.permanent and "cannot find" in caught.value.message


def test_a_value_that_is_not_a_message_id_says_what_to_map(google):
    with pytest.raises(IntegrationError) as caught:
        run(google, "get_email", message_id="다음 주 납품 일정")
    assert caught.value.permanent and "not a Gmail message ID" in caught.value.message


def test_get_email_reads_bodies_attachments_and_the_new_text(google):
    body = (
        "금요일까지 가능할까요?\n\n--\n김민지 | Acme 구매팀\n\n"
        "2026년 11월 30일 (월) 오후 3:00, ops@acme.test님이 작성:\n> 일정 공유드립니다.\n"
    )
    message = google.deliver(
        "김민지 <minji.kim@acme.test>",
        subject="납품 일정",
        body=body,
        html="<p>금요일까지 가능할까요?</p>",
        attachments=(("견적서.pdf", "application/pdf", b"%PDF-1.4 " + b"x" * 100),),
    )
    out = run(google, "get_email", message_id=message["id"])
    assert out["from"] == "김민지 <minji.kim@acme.test>" and out["subject"] == "납품 일정"
    assert out["to"] == google.email and out["cc"] == ""
    assert out["body_text"].strip() == body.strip()
    assert out["body_html"].strip() == "<p>금요일까지 가능할까요?</p>"
    assert out["body_clean"] == "금요일까지 가능할까요?"
    assert out["attachments"] == [{"name": "견적서.pdf", "type": "application/pdf", "size": 109}]
    assert out["labels"] == ["INBOX", "UNREAD"] and out["thread_id"] == message["threadId"]
    assert out["date"].endswith("+00:00")
    assert out["url"].endswith(f"#all/{message['id']}")
    assert set(out) == set(GMAIL.action("get_email").sample)


def test_get_email_of_an_html_only_email_still_gives_clean_text(google):
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "kim@acme.test", google.email, "html"
    markup = "<p>확인했습니다&nbsp;감사합니다</p><blockquote>이전 메일</blockquote>"
    mail.set_content(markup + '<div class="gmail_quote">On Mon, Ops wrote:</div>', subtype="html")
    message = google.deliver_raw(mail.as_bytes())
    out = run(google, "get_email", message_id=message["id"])
    assert out["body_text"] == "" and out["body_html"].startswith("<p>확인했습니다")
    assert out["body_clean"] == "확인했습니다\xa0감사합니다"


def test_get_email_decodes_each_part_in_its_own_charset(google):
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "kim@acme.test", google.email, "주문"
    mail["Date"] = "Tue, 01 Dec 2026 09:12:00 +0900"
    mail.set_content("안녕하세요, 주문 확인 부탁드립니다.", charset="euc-kr")
    mail.add_alternative("<p>ご確認ください</p>", subtype="html", charset="iso-2022-jp")
    message = google.deliver_raw(mail.as_bytes())
    out = run(google, "get_email", message_id=message["id"])
    assert out["body_text"].strip() == "안녕하세요, 주문 확인 부탁드립니다."
    assert out["body_html"].strip() == "<p>ご確認ください</p>"
    assert out["date"] == "2026-12-01T09:12:00+09:00"
    assert out["attachments"] == []


def test_get_email_of_a_nested_multipart_finds_the_bodies(google):
    inner = EmailMessage()
    inner.set_content("본문입니다")
    inner.add_alternative("<p>본문입니다</p>", subtype="html")
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "kim@acme.test", google.email, "첨부"
    mail.make_mixed()
    mail.attach(inner)
    mail.add_attachment(b"a,b\n1,2\n", maintype="text", subtype="csv", filename="목록.csv")
    message = google.deliver_raw(mail.as_bytes())
    out = run(google, "get_email", message_id=message["id"])
    assert out["body_text"].strip() == "본문입니다"
    assert out["body_html"].strip() == "<p>본문입니다</p>"
    assert out["attachments"] == [{"name": "목록.csv", "type": "text/csv", "size": 8}]


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        ("Sure.\n\nOn Mon, 30 Nov 2026 at 15:00, Ops <ops@acme.test> wrote:\n> Plan?", "Sure."),
        ("Sure.\n\nOn Mon, 30 Nov 2026 at 15:00, Ops\n<ops@acme.test> wrote:\n> Plan?", "Sure."),
        ("On Monday we ship.\n\nOn Mon, Ops wrote:\n> Plan?", "On Monday we ship."),
        ("Yes\n-----Original Message-----\nFrom: a", "Yes"),
        ("Yes\n\nFrom: Ops <ops@acme.test>\nSent: Monday\nTo: me", "Yes"),
        ("Yes\n\nSent from my iPhone", "Yes"),
        ("Trip\nFrom: Seoul\nTo: Busan", "Trip\nFrom: Seoul\nTo: Busan"),
    ],
)
def test_clean_text_keeps_only_what_was_written_now(text, clean):
    assert mime.clean_text(text) == clean


def test_find_emails_pages_up_to_the_limit(google):
    for n in range(7):
        google.deliver(
            "orders@acme.test",
            subject=f"주문 {n}",
            body=f"주문 번호 {n}",
            date=datetime(2026, 11, 20 + n, 9, 0, tzinfo=UTC),
        )
    google.deliver("someone@else.test", subject="other", body="no")
    out = run(google, "find_emails", query="from:orders@acme.test", limit=5)
    assert out["count"] == 5 and len(out["emails"]) == 5
    assert [e["subject"] for e in out["emails"]] == [f"주문 {n}" for n in range(6, 1, -1)]
    first = out["emails"][0]
    assert set(first) == set(GMAIL.action("find_emails").sample["emails"][0])
    assert first["from"] == "orders@acme.test" and first["snippet"] == "주문 번호 6"
    assert first["date"] == "2026-11-26T09:00:00+00:00"
    [listing] = google.calls("messages.list")
    assert listing.query["q"] == ["from:orders@acme.test"] and listing.query["maxResults"] == ["5"]
    assert len(google.calls("messages.get")) == 5  # one per email returned, none beyond


def test_find_emails_follows_page_tokens(google, monkeypatch):
    for n in range(7):
        google.deliver("orders@acme.test", subject=f"order {n}", body="b")
    monkeypatch.setattr(google, "_max", lambda value, default, most: 3)  # Gmail's page may be short
    out = run(google, "find_emails", query="", limit=100)
    assert out["count"] == 7
    pages = google.calls("messages.list")
    assert len(pages) == 3
    assert "pageToken" not in pages[0].query and "pageToken" in pages[1].query
