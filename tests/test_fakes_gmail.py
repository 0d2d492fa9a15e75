from __future__ import annotations

import base64
from datetime import UTC, datetime
from email.message import EmailMessage
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from tests.fakes.gmail import FakeGoogle
from tests.fakes.kit import b64url_decode, consent, pkce_challenge

REDIRECT = "http://localhost:8000/connections/gmail/callback"
SCOPE = "https://www.googleapis.com/auth/gmail.modify"


@pytest.fixture
def google():
    with FakeGoogle() as fake:
        yield fake


def authorize(fake: FakeGoogle, **extra: str) -> str:
    params = {
        "client_id": fake.client_id,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": SCOPE,
        "access_type": "offline",
        "state": "g-state",
        **extra,
    }
    return f"{fake.settings()['GOOGLE_AUTHORIZE_URL']}?{urlencode(params)}"


def code_of(location: str) -> str:
    query = parse_qs(urlsplit(location).query)
    assert location.startswith(REDIRECT) and query["state"] == ["g-state"]
    return query["code"][0]


def token(fake: FakeGoogle, **data: str) -> requests.Response:
    body = {"client_id": fake.client_id, "client_secret": fake.client_secret, **data}
    return requests.post(fake.settings()["GOOGLE_TOKEN_URL"], data=body, timeout=5)


def exchange(fake: FakeGoogle, code: str, **extra: str) -> requests.Response:
    return token(fake, grant_type="authorization_code", code=code, redirect_uri=REDIRECT, **extra)


class Gmail:
    def __init__(self, fake: FakeGoogle, access_token: str) -> None:
        self.base = fake.settings()["GMAIL_API_URL"] + "/users/me"
        self.headers = {"Authorization": f"Bearer {access_token}"}

    def get(self, path: str, **params) -> requests.Response:
        return requests.get(self.base + path, params=params, headers=self.headers, timeout=5)

    def post(self, path: str, body: dict) -> requests.Response:
        return requests.post(self.base + path, json=body, headers=self.headers, timeout=5)


@pytest.fixture
def gmail(google):
    return Gmail(google, google.issue_token())


# ---------------------------------------------------------------- OAuth


def test_full_flow_pkce_offline_refresh_and_revoke(google):
    verifier = "k" * 64
    url = authorize(google, code_challenge=pkce_challenge(verifier), code_challenge_method="S256")
    code = code_of(consent(url))
    granted = exchange(google, code, code_verifier=verifier)
    assert granted.status_code == 200
    body = granted.json()
    assert body["expires_in"] == 3599 and body["token_type"] == "Bearer"
    assert body["scope"] == SCOPE
    assert body["access_token"].startswith("ya29.")
    assert Gmail(google, body["access_token"]).get("/profile").json()["emailAddress"] == (
        "ops@acme.test"
    )

    refreshed = token(google, grant_type="refresh_token", refresh_token=body["refresh_token"])
    assert refreshed.status_code == 200
    assert "refresh_token" not in refreshed.json()
    assert refreshed.json()["access_token"] != body["access_token"]
    # Google does not rotate: the same refresh token keeps working.
    again = token(google, grant_type="refresh_token", refresh_token=body["refresh_token"])
    assert again.status_code == 200

    revoked = requests.post(
        google.settings()["GOOGLE_REVOKE_URL"],
        params={"token": body["refresh_token"]},
        timeout=5,
    )
    assert revoked.status_code == 200
    dead = Gmail(google, refreshed.json()["access_token"]).get("/profile")
    assert dead.status_code == 401
    assert dead.json()["error"]["errors"][0]["reason"] == "authError"
    assert dead.json()["error"]["status"] == "UNAUTHENTICATED"
    after = token(google, grant_type="refresh_token", refresh_token=body["refresh_token"])
    assert after.status_code == 400
    assert after.json() == {
        "error": "invalid_grant",
        "error_description": "Token has been expired or revoked.",
    }


def test_refresh_token_only_on_first_offline_consent_or_prompt_consent(google):
    google.auto_approve = True
    first = exchange(google, code_of(consent(authorize(google)))).json()
    second = exchange(google, code_of(consent(authorize(google)))).json()
    forced = exchange(google, code_of(consent(authorize(google, prompt="consent")))).json()
    online = exchange(
        google, code_of(consent(authorize(google, access_type="online", prompt="consent")))
    ).json()
    assert "refresh_token" in first
    assert "refresh_token" not in second
    assert "refresh_token" in forced
    assert "refresh_token" not in online


def test_pkce_mismatch_and_code_replay(google):
    google.auto_approve = True
    url = authorize(google, code_challenge=pkce_challenge("a" * 50), code_challenge_method="S256")
    wrong = exchange(google, code_of(consent(url)), code_verifier="b" * 50)
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    code = code_of(consent(authorize(google)))
    assert exchange(google, code).status_code == 200
    replay = exchange(google, code)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"


def test_client_and_redirect_errors(google):
    google.auto_approve = True
    code = code_of(consent(authorize(google)))
    bad_secret = token(
        google,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        client_secret="nope",
    )
    assert bad_secret.status_code == 401 and bad_secret.json()["error"] == "invalid_client"
    code = code_of(consent(authorize(google)))
    mismatch = token(
        google,
        grant_type="authorization_code",
        code=code,
        redirect_uri="http://localhost:8000/other",
    )
    assert mismatch.json()["error"] == "redirect_uri_mismatch"
    assert requests.get(authorize(google, scope=""), timeout=5).status_code == 400


def test_expired_access_token_gets_401(google):
    access = google.issue_token()
    google.expire_token(access)
    assert Gmail(google, access).get("/profile").status_code == 401
    missing = requests.get(google.settings()["GMAIL_API_URL"] + "/users/me/profile", timeout=5)
    assert missing.status_code == 401
    assert missing.json()["error"]["errors"][0]["reason"] == "required"


# ---------------------------------------------------------------- Gmail API


def test_deliver_list_and_query(google, gmail):
    google.deliver(
        "Boss <boss@acme.test>",
        subject="Quarterly plan",
        body="Numbers",
        labels=("INBOX", "UNREAD", "IMPORTANT"),
    )
    google.deliver("news@shop.test", subject="Sale", body="Buy")
    google.deliver(
        "boss@acme.test",
        subject="Lunch?",
        body="Noon",
        labels=("INBOX",),
        date=datetime(2020, 1, 2, tzinfo=UTC),
    )

    def ids(**params):
        return [m["id"] for m in gmail.get("/messages", **params).json().get("messages", [])]

    everything = ids()
    assert len(everything) == 3
    assert len(ids(q="is:important")) == 1
    assert len(ids(q="from:boss@acme.test")) == 2
    assert len(ids(q='subject:"quarterly plan"')) == 1
    assert len(ids(q="from:boss is:unread")) == 1
    assert len(ids(q="after:2021/01/01")) == 2
    assert len(ids(labelIds="IMPORTANT")) == 1
    assert gmail.get("/messages", q="from:nobody").json() == {"resultSizeEstimate": 0}


def test_list_pagination(google, gmail):
    for i in range(5):
        google.deliver("a@b.test", subject=f"n{i}")
    first = gmail.get("/messages", maxResults=2).json()
    seen = [m["id"] for m in first["messages"]]
    token_ = first["nextPageToken"]
    while token_:
        page = gmail.get("/messages", maxResults=2, pageToken=token_).json()
        seen += [m["id"] for m in page["messages"]]
        token_ = page.get("nextPageToken")
    assert len(seen) == len(set(seen)) == 5


def test_get_formats_and_multipart(google, gmail):
    sent = google.deliver("a@b.test", subject="Hi", body="plain body", html="<p>html body</p>")
    full = gmail.get(f"/messages/{sent['id']}", format="full").json()
    assert full["payload"]["mimeType"] == "multipart/alternative"
    plain, html = full["payload"]["parts"]
    assert b64url_decode(plain["body"]["data"]).decode().strip() == "plain body"
    assert html["mimeType"] == "text/html" and plain["partId"] == "0"
    assert {"name": "Subject", "value": "Hi"} in full["payload"]["headers"]
    assert full["snippet"] == "plain body"
    minimal = gmail.get(f"/messages/{sent['id']}", format="minimal").json()
    assert "payload" not in minimal and minimal["labelIds"] == ["INBOX", "UNREAD"]
    meta = gmail.get(
        f"/messages/{sent['id']}", format="metadata", metadataHeaders=["Subject"]
    ).json()
    assert meta["payload"]["headers"] == [{"name": "Subject", "value": "Hi"}]
    raw = gmail.get(f"/messages/{sent['id']}", format="raw").json()["raw"]
    assert b"Subject: Hi" in b64url_decode(raw)
    assert gmail.get("/messages/ffff0000").status_code == 404
    assert gmail.get("/messages/not-an-id").status_code == 400


def test_send_stores_message(google, gmail):
    mail = EmailMessage()
    mail["To"] = "client@else.test"
    mail["Subject"] = "Report"
    mail.set_content("Attached")
    raw = base64.urlsafe_b64encode(mail.as_bytes()).decode()
    reply = gmail.post("/messages/send", {"raw": raw})
    assert reply.status_code == 200
    sent = reply.json()
    assert sent["labelIds"] == ["SENT"] and sent["threadId"] == sent["id"]
    stored = gmail.get(f"/messages/{sent['id']}", format="metadata").json()
    assert {"name": "To", "value": "client@else.test"} in stored["payload"]["headers"]
    no_rcpt = EmailMessage()
    no_rcpt["Subject"] = "x"
    bad = gmail.post(
        "/messages/send", {"raw": base64.urlsafe_b64encode(no_rcpt.as_bytes()).decode()}
    )
    assert bad.status_code == 400
    assert gmail.post("/messages/send", {}).json()["error"]["status"] == "INVALID_ARGUMENT"


def test_send_needs_a_send_scope(google):
    reader = Gmail(google, google.issue_token(("https://www.googleapis.com/auth/gmail.readonly",)))
    reply = reader.post("/messages/send", {"raw": "eA"})
    assert reply.status_code == 403
    assert reply.json()["error"]["errors"][0]["reason"] == "insufficientPermissions"


def test_modify_labels_and_history(google, gmail):
    start = gmail.get("/profile").json()["historyId"]
    label = google.add_label("Follow up")
    message = google.deliver("a@b.test", subject="x")
    changed = gmail.post(
        f"/messages/{message['id']}/modify", {"addLabelIds": [label], "removeLabelIds": ["UNREAD"]}
    ).json()
    assert changed["labelIds"] == ["INBOX", label]
    assert (
        gmail.post(f"/messages/{message['id']}/modify", {"addLabelIds": ["Nope"]}).status_code
        == 400
    )
    assert any(
        lbl["id"] == label and lbl["type"] == "user"
        for lbl in gmail.get("/labels").json()["labels"]
    )
    assert len(gmail.get("/messages", q="label:follow-up").json()["messages"]) == 1

    history = gmail.get("/history", startHistoryId=start).json()
    assert [list(r)[-1] for r in history["history"]] == ["messagesAdded", "labelsRemoved"]
    assert history["history"][0]["messagesAdded"][0]["message"]["id"] == message["id"]
    added_only = gmail.get("/history", startHistoryId=start, historyTypes="messageAdded").json()
    assert len(added_only["history"]) == 1
    current = history["historyId"]
    assert gmail.get("/history", startHistoryId=current).json() == {"historyId": current}
    assert gmail.get("/history").status_code == 400
    google.expire_history()
    stale = gmail.get("/history", startHistoryId=start)
    assert stale.status_code == 404 and stale.json()["error"]["code"] == 404


def test_rate_limits(google, gmail):
    google.rate_limit("messages.list", retry_after=3)
    limited = gmail.get("/messages")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "3"
    assert limited.json()["error"]["errors"][0]["reason"] == "rateLimitExceeded"
    google.user_rate_limit("messages.list")
    user_limited = gmail.get("/messages")
    assert user_limited.status_code == 403
    assert user_limited.json()["error"]["errors"][0]["reason"] == "userRateLimitExceeded"
    assert gmail.get("/messages").status_code == 200
