from __future__ import annotations

import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier

from tests.fakes.kit import consent, pkce_challenge
from tests.fakes.slack import FakeSlack

REDIRECT = "http://127.0.0.1:8000/connections/slack/callback"


@pytest.fixture
def slack():
    with FakeSlack() as fake:
        yield fake


def web(fake: FakeSlack, token: str | None = None) -> WebClient:
    return WebClient(token=token, base_url=fake.base_url, timeout=5)


def authorize_url(fake: FakeSlack, **extra: str) -> str:
    params = {
        "client_id": fake.client_id,
        "scope": "chat:write,channels:read",
        "redirect_uri": REDIRECT,
        "state": "st4te",
        **extra,
    }
    return f"{fake.settings()['SLACK_AUTHORIZE_URL']}?{urlencode(params)}"


def code_from(location: str) -> dict[str, str]:
    assert location.startswith(REDIRECT)
    return {k: v[-1] for k, v in parse_qs(urlsplit(location).query).items()}


# ---------------------------------------------------------------- OAuth


def test_settings_point_at_the_fake(slack):
    settings = slack.settings()
    assert settings["SLACK_API_URL"] == f"http://127.0.0.1:{slack.port}/api/"
    assert settings["SLACK_AUTHORIZE_URL"] == f"http://127.0.0.1:{slack.port}/oauth/v2/authorize"


def test_authorize_page_has_allow_and_cancel(slack):
    page = requests.get(authorize_url(slack), allow_redirects=False, timeout=5)
    assert page.status_code == 200
    assert 'id="allow"' in page.text and 'id="cancel"' in page.text


def test_authorize_rejects_unknown_client_and_foreign_redirect(slack):
    bad_client = requests.get(authorize_url(slack, client_id="nope"), timeout=5)
    foreign = requests.get(authorize_url(slack, redirect_uri="https://evil.test/cb"), timeout=5)
    no_scope = requests.get(authorize_url(slack, scope=""), timeout=5)
    assert (bad_client.status_code, foreign.status_code, no_scope.status_code) == (400, 400, 400)


def test_cancel_redirects_with_access_denied(slack):
    params = code_from(consent(authorize_url(slack), allow=False))
    assert params == {"error": "access_denied", "state": "st4te"}


def test_deny_next_refuses_even_with_auto_approve(slack):
    slack.auto_approve = True
    slack.deny_next()
    denied = requests.get(authorize_url(slack), allow_redirects=False, timeout=5)
    allowed = requests.get(authorize_url(slack), allow_redirects=False, timeout=5)
    assert "error=access_denied" in denied.headers["Location"]
    assert "code=" in allowed.headers["Location"]


def test_full_flow_with_rotation_refresh_and_revoke():
    with FakeSlack(token_rotation=True) as slack:
        params = code_from(consent(authorize_url(slack, user_scope="search:read")))
        assert params["state"] == "st4te"
        client = web(slack)
        token = client.oauth_v2_access(
            client_id=slack.client_id,
            client_secret=slack.client_secret,
            code=params["code"],
            redirect_uri=REDIRECT,
        )
        assert token["token_type"] == "bot"
        assert token["access_token"].startswith("xoxe.xoxb-")
        assert token["refresh_token"].startswith("xoxe-1-")
        assert token["expires_in"] == 12 * 3600
        assert token["scope"] == "chat:write,channels:read"
        assert token["team"] == {"id": slack.team["id"], "name": "Acme"}
        assert token["bot_user_id"] == slack.bot_user_id
        assert token["authed_user"]["token_type"] == "user"
        assert token["authed_user"]["access_token"].startswith("xoxe.xoxp-")

        me = web(slack, token["access_token"]).auth_test()
        assert (me["team_id"], me["user_id"], me["bot_id"]) == (
            slack.team["id"],
            slack.bot_user_id,
            slack.bot_id,
        )

        # The Basic-auth path is what slack-sdk sends; body credentials work too.
        fresh = requests.post(
            f"{slack.base_url}oauth.v2.access",
            data={
                "grant_type": "refresh_token",
                "refresh_token": token["refresh_token"],
                "client_id": slack.client_id,
                "client_secret": slack.client_secret,
            },
            timeout=5,
        ).json()
        assert fresh["ok"] and fresh["refresh_token"] != token["refresh_token"]
        assert fresh["access_token"] != token["access_token"]

        with pytest.raises(SlackApiError) as replay:
            client.oauth_v2_access(
                client_id=slack.client_id,
                client_secret=slack.client_secret,
                grant_type="refresh_token",
                refresh_token=token["refresh_token"],
            )
        assert replay.value.response["error"] == "invalid_refresh_token"

        new_client = web(slack, fresh["access_token"])
        assert new_client.auth_revoke()["revoked"] is True
        with pytest.raises(SlackApiError) as revoked:
            new_client.auth_test()
        assert revoked.value.response["error"] == "token_revoked"
        with pytest.raises(SlackApiError) as dead_refresh:
            client.oauth_v2_access(
                client_id=slack.client_id,
                client_secret=slack.client_secret,
                grant_type="refresh_token",
                refresh_token=fresh["refresh_token"],
            )
        assert dead_refresh.value.response["error"] == "invalid_refresh_token"


def test_without_rotation_tokens_do_not_expire(slack):
    slack.auto_approve = True
    location = requests.get(authorize_url(slack), allow_redirects=False, timeout=5)
    code = code_from(location.headers["Location"])["code"]
    token = web(slack).oauth_v2_access(
        client_id=slack.client_id,
        client_secret=slack.client_secret,
        code=code,
        redirect_uri=REDIRECT,
    )
    assert token["access_token"].startswith("xoxb-")
    assert "refresh_token" not in token.data and "expires_in" not in token.data
    assert "access_token" not in token["authed_user"]


def exchange(slack: FakeSlack, **data: str) -> dict:
    return requests.post(f"{slack.base_url}oauth.v2.access", data=data, timeout=5).json()


def test_code_is_single_use_and_replay_kills_its_token(slack):
    slack.auto_approve = True
    code = code_from(consent(authorize_url(slack)))["code"]
    creds = {"client_id": slack.client_id, "client_secret": slack.client_secret}
    first = exchange(slack, code=code, redirect_uri=REDIRECT, **creds)
    second = exchange(slack, code=code, redirect_uri=REDIRECT, **creds)
    assert first["ok"] is True
    assert second == {"ok": False, "error": "invalid_code"}
    with pytest.raises(SlackApiError) as err:
        web(slack, first["access_token"]).auth_test()
    assert err.value.response["error"] == "token_revoked"


def test_token_endpoint_client_and_redirect_errors(slack):
    slack.auto_approve = True
    code = code_from(consent(authorize_url(slack)))["code"]
    assert exchange(slack, code=code, client_id="x", client_secret="y")["error"] == (
        "invalid_client_id"
    )
    wrong_secret = exchange(slack, code=code, client_id=slack.client_id, client_secret="nope")
    assert wrong_secret["error"] == "bad_client_secret"
    mismatch = exchange(
        slack,
        code=code,
        client_id=slack.client_id,
        client_secret=slack.client_secret,
        redirect_uri="http://127.0.0.1:9/other",
    )
    assert mismatch["error"] == "bad_redirect_uri"


def test_expired_code_is_refused(slack):
    slack.auto_approve = True
    slack.code_ttl = 0
    code = code_from(consent(authorize_url(slack)))["code"]
    body = exchange(
        slack,
        code=code,
        client_id=slack.client_id,
        client_secret=slack.client_secret,
        redirect_uri=REDIRECT,
    )
    assert body["error"] == "invalid_code"


def test_pkce_verifier_is_checked(slack):
    verifier = "v" * 50
    challenge = pkce_challenge(verifier)
    slack.auto_approve = True
    creds = {
        "client_id": slack.client_id,
        "client_secret": slack.client_secret,
        "redirect_uri": REDIRECT,
    }
    url = authorize_url(slack, code_challenge=challenge, code_challenge_method="S256")
    wrong = exchange(slack, code=code_from(consent(url))["code"], code_verifier="w" * 50, **creds)
    missing = exchange(slack, code=code_from(consent(url))["code"], **creds)
    right = exchange(slack, code=code_from(consent(url))["code"], code_verifier=verifier, **creds)
    assert wrong["error"] == missing["error"] == "invalid_code"
    assert right["ok"] is True


def test_fail_refresh_gives_invalid_refresh_token():
    with FakeSlack(token_rotation=True) as slack:
        slack.auto_approve = True
        creds = {"client_id": slack.client_id, "client_secret": slack.client_secret}
        code = code_from(consent(authorize_url(slack)))["code"]
        token = exchange(slack, code=code, redirect_uri=REDIRECT, **creds)
        slack.fail_refresh()
        refresh = {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}
        assert exchange(slack, **refresh, **creds)["error"] == "invalid_refresh_token"
        assert exchange(slack, **refresh, **creds)["ok"] is True


def test_expired_access_token(slack):
    token = slack.issue_token(expires_in=1)
    slack.expire_token(token)
    with pytest.raises(SlackApiError) as err:
        web(slack, token).auth_test()
    assert err.value.response["error"] == "token_expired"


# ---------------------------------------------------------------- Web API


def test_auth_errors(slack):
    for token, error in ((None, "not_authed"), ("xoxb-unknown", "invalid_auth")):
        with pytest.raises(SlackApiError) as err:
            web(slack, token).auth_test()
        assert err.value.response.status_code == 200
        assert err.value.response["error"] == error


def test_post_message_is_stored_and_logged(slack):
    general = slack.add_channel("general")
    token = slack.issue_token()
    reply = web(slack, token).chat_postMessage(channel=general, text="hello *world*")
    assert reply["channel"] == general
    assert reply["message"]["text"] == "hello *world*"
    assert reply["message"]["bot_id"] == slack.bot_id
    assert slack.messages[general][-1]["ts"] == reply["ts"]
    [call] = slack.calls("chat.postMessage")
    assert call.token == token
    assert call.body == {"channel": general, "text": "hello *world*"}


def test_post_message_by_name_and_in_thread(slack):
    slack.add_channel("ops")
    client = web(slack, slack.issue_token())
    parent = client.chat_postMessage(channel="#ops", text="parent")
    child = client.chat_postMessage(channel="ops", text="child", thread_ts=parent["ts"])
    assert child["message"]["thread_ts"] == parent["ts"]
    assert float(child["ts"]) > float(parent["ts"])


@pytest.mark.parametrize(
    ("setup", "kwargs", "error"),
    [
        (lambda s: "C404", {"text": "x"}, "channel_not_found"),
        (lambda s: s.add_channel("outside", member=False), {"text": "x"}, "not_in_channel"),
        (
            lambda s: s.add_channel("secret", private=True, member=False),
            {"text": "x"},
            "channel_not_found",
        ),
        (lambda s: s.add_channel("old", archived=True), {"text": "x"}, "is_archived"),
        (lambda s: s.add_channel("g1"), {}, "no_text"),
        (lambda s: s.add_channel("g2"), {"text": "x" * 40_001}, "msg_too_long"),
    ],
)
def test_post_message_errors(slack, setup, kwargs, error):
    channel = setup(slack)
    with pytest.raises(SlackApiError) as err:
        web(slack, slack.issue_token()).chat_postMessage(channel=channel, **kwargs)
    assert err.value.response["error"] == error


def test_chat_write_public_posts_without_joining(slack):
    outside = slack.add_channel("outside", member=False)
    token = slack.issue_token("chat:write,chat:write.public")
    assert web(slack, token).chat_postMessage(channel=outside, text="hi")["ok"] is True


def test_missing_scope_names_needed_and_provided(slack):
    channel = slack.add_channel("general")
    with pytest.raises(SlackApiError) as err:
        web(slack, slack.issue_token("channels:read")).chat_postMessage(channel=channel, text="x")
    body = err.value.response.data
    assert body == {
        "ok": False,
        "error": "missing_scope",
        "needed": "chat:write",
        "provided": "channels:read",
    }


def test_rate_limit_surfaces_as_429_with_retry_after(slack):
    channel = slack.add_channel("general")
    slack.rate_limit("chat.postMessage", retry_after=7)
    client = web(slack, slack.issue_token())
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel=channel, text="x")
    assert err.value.response.status_code == 429
    assert err.value.response["error"] == "ratelimited"
    assert err.value.response.headers["Retry-After"] == "7"
    assert client.chat_postMessage(channel=channel, text="x")["ok"] is True


def test_conversations_list_paginates_and_filters(slack):
    for i in range(5):
        slack.add_channel(f"pub{i}")
    slack.add_channel("archived", archived=True)
    slack.add_channel("private", private=True)
    slack.add_channel("hidden", private=True, member=False)
    client = web(slack, slack.issue_token())
    names, cursors = [], []
    for page in client.conversations_list(limit=2, exclude_archived=True):
        names += [c["name"] for c in page["channels"]]
        cursors.append(page["response_metadata"]["next_cursor"])
    assert names == [f"pub{i}" for i in range(5)]
    assert cursors[-1] == "" and all(cursors[:-1])
    both = client.conversations_list(types="public_channel,private_channel", limit=100)
    assert {c["name"] for c in both["channels"]} == {f"pub{i}" for i in range(5)} | {
        "archived",
        "private",
    }
    with pytest.raises(SlackApiError) as err:
        client.conversations_list(cursor="not-a-cursor")
    assert err.value.response["error"] == "invalid_cursor"


def test_conversations_list_private_needs_groups_read(slack):
    client = web(slack, slack.issue_token("channels:read"))
    with pytest.raises(SlackApiError) as err:
        client.conversations_list(types="private_channel")
    assert err.value.response["needed"] == "groups:read"


def test_conversations_history_newest_first_with_bounds(slack):
    channel = slack.add_channel("general")
    for i in range(5):
        slack.add_message(channel, f"m{i}", ts=f"1700000000.00000{i}")
    client = web(slack, slack.issue_token())
    first = client.conversations_history(channel=channel, limit=2)
    assert [m["text"] for m in first["messages"]] == ["m4", "m3"]
    assert first["has_more"] is True
    rest = client.conversations_history(
        channel=channel, limit=10, cursor=first["response_metadata"]["next_cursor"]
    )
    assert [m["text"] for m in rest["messages"]] == ["m2", "m1", "m0"]
    assert rest["has_more"] is False
    newer = client.conversations_history(channel=channel, oldest="1700000000.000002")
    assert [m["text"] for m in newer["messages"]] == ["m4", "m3"]


def test_users_lookup_by_email(slack):
    uid = slack.add_user("kim@acme.test", "Kim")
    client = web(slack, slack.issue_token())
    assert client.users_lookupByEmail(email="KIM@acme.test")["user"]["id"] == uid
    with pytest.raises(SlackApiError) as err:
        client.users_lookupByEmail(email="nobody@acme.test")
    assert err.value.response["error"] == "users_not_found"


def test_signed_event_verifies_with_slack_sdk(slack):
    body, headers = slack.event_request({"type": "app_mention", "text": "hi"})
    verifier = SignatureVerifier(slack.signing_secret)
    assert headers["X-Slack-Signature"] == verifier.generate_signature(
        timestamp=headers["X-Slack-Request-Timestamp"], body=body
    )
    assert verifier.is_valid(
        body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    )
    stale_body, stale = slack.event_request({"type": "message"}, timestamp=int(time.time()) - 600)
    assert not verifier.is_valid(
        stale_body, stale["X-Slack-Request-Timestamp"], stale["X-Slack-Signature"]
    )


def test_unknown_method(slack):
    reply = requests.post(f"{slack.base_url}chat.nope", timeout=5)
    assert reply.status_code == 404
    assert reply.json()["error"] == "unknown_method"


def test_redirect_uri_given_at_authorize_is_required_at_exchange(slack):
    slack.auto_approve = True
    code = code_from(consent(authorize_url(slack)))["code"]
    body = exchange(slack, code=code, client_id=slack.client_id, client_secret=slack.client_secret)
    assert body["error"] == "bad_redirect_uri"


# ---------------------------------------------------------------- people, DMs, reactions, edits


def test_users_list_pages_with_cursors_and_errors_as_http_200(slack):
    for i in range(4):
        slack.add_user(f"p{i}@acme.test", f"P {i}")
    client = web(slack, slack.issue_token())
    first = client.users_list(limit=4)
    assert len(first["members"]) == 4 and first["response_metadata"]["next_cursor"]
    rest = client.users_list(limit=4, cursor=first["response_metadata"]["next_cursor"])
    assert len(rest["members"]) == 2 and rest["response_metadata"]["next_cursor"] == ""
    assert rest["members"][0]["profile"]["email"] and "cache_ts" in rest.data
    raw = requests.post(
        slack.base_url + "users.list",
        data={"cursor": "bm90LWEtY3Vyc29y", "limit": "2"},
        headers={"Authorization": f"Bearer {slack.issue_token()}"},
        timeout=5,
    )
    assert raw.status_code == 200 and raw.json() == {"ok": False, "error": "invalid_cursor"}


def test_conversations_open_returns_the_same_dm_and_posts_there(slack):
    uid = slack.add_user("g@acme.test", "Grace")
    client = web(slack, slack.issue_token())
    first = client.conversations_open(users=uid)
    dm = first["channel"]["id"]
    assert dm.startswith("D") and "already_open" not in first.data
    again = client.conversations_open(users=uid)
    assert again["channel"]["id"] == dm and again["already_open"] is True
    client.chat_postMessage(channel=dm, text="hi")
    assert slack.messages[dm][0]["text"] == "hi"
    with pytest.raises(SlackApiError) as caught:
        client.conversations_open(users="U404")
    assert caught.value.response["error"] == "user_not_found"
    with pytest.raises(SlackApiError) as caught:
        web(slack, slack.issue_token("chat:write")).conversations_open(users=uid)
    assert caught.value.response["error"] == "missing_scope"


def test_reactions_add_codes(slack):
    general = slack.add_channel("general")
    ts = slack.add_message(general, "x")["ts"]
    client = web(slack, slack.issue_token())
    assert client.reactions_add(channel=general, timestamp=ts, name="tada")["ok"]
    for name, timestamp, code in [
        ("tada", ts, "already_reacted"),
        (":tada:", ts, "invalid_name"),
        ("nope", ts, "invalid_name"),
        ("tada", "1.000001", "message_not_found"),
    ]:
        with pytest.raises(SlackApiError) as caught:
            client.reactions_add(channel=general, timestamp=timestamp, name=name)
        assert caught.value.response.status_code == 200
        assert caught.value.response["error"] == code


def test_chat_update_only_the_bots_own_messages(slack):
    general = slack.add_channel("general")
    client = web(slack, slack.issue_token())
    posted = client.chat_postMessage(channel=general, text="a")
    updated = client.chat_update(channel=general, ts=posted["ts"], text="b")
    assert updated["text"] == "b" and updated["ts"] == posted["ts"]
    theirs = slack.add_message(general, "mine")["ts"]
    for ts, code in [(theirs, "cant_update_message"), ("2.000002", "message_not_found")]:
        with pytest.raises(SlackApiError) as caught:
            client.chat_update(channel=general, ts=ts, text="x")
        assert caught.value.response["error"] == code


def test_rate_limited_answer_carries_retry_after(slack):
    slack.rate_limit("reactions.add", retry_after=3)
    with pytest.raises(SlackApiError) as caught:
        web(slack, slack.issue_token()).reactions_add(channel="C1", timestamp="1.1", name="x")
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] in ("3", ["3"])
    assert caught.value.response["error"] == "ratelimited"
