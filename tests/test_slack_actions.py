"""The Slack catalogue through slack-sdk against the Slack fake: each action's success, a
permanent error in the words a member sees, and a 429 with Retry-After; the people picker."""

from __future__ import annotations

import pytest

from hub.engine.executor import execute
from hub.engine.models import Run
from hub.engine.runs import start_run
from integrations import registry
from integrations.base import Context, IntegrationError
from integrations.slack import pickers
from tests.conftest import make_recipe, slack_connection


@pytest.fixture
def conn(workspace, fake_slack):
    return slack_connection(workspace, fake_slack)


def run(conn, key, **config):
    app = registry.get("slack")
    ctx = Context(workspace_id=conn.workspace_id, config=config, connection=conn, integration=app)
    return app.action(key).run(ctx)


def fails(conn, key, **config) -> IntegrationError:
    with pytest.raises(IntegrationError) as caught:
        run(conn, key, **config)
    return caught.value


def assert_rate_limited(fake, conn, route, key, **config):
    fake.rate_limit(route, retry_after=7)
    error = fails(conn, key, **config)
    assert error.retryable and error.retry_after == 7
    assert fake.calls(route)[-1].status == 429


def bot_post(fake, channel, text="Hi"):
    message = fake.add_message(channel, text, user=fake.bot_user_id)
    return message["ts"]


# -- send_message


def test_send_message_in_a_thread_without_link_previews(conn, fake_slack):
    parent = bot_post(fake_slack, fake_slack.general)
    out = run(
        conn,
        "send_message",
        channel=fake_slack.general,
        text="See https://acme.test",
        thread_ts=parent,
        unfurl_links=False,
    )
    assert out["channel"] == fake_slack.general and out["text"] == "See https://acme.test"
    [call] = fake_slack.calls("chat.postMessage")
    assert call.body["thread_ts"] == parent and call.body["unfurl_links"] is False
    assert fake_slack.messages[fake_slack.general][-1]["thread_ts"] == parent


def test_send_message_when_the_bot_is_not_in_the_channel_says_how_to_invite_it(conn, fake_slack):
    outside = fake_slack.add_channel("sales", member=False)
    error = fails(conn, "send_message", channel=outside, text="Hi")
    assert error.permanent
    assert error.message == ("The bot is not in #sales — type /invite @Toolstack in #sales.")


def test_send_message_rate_limited(conn, fake_slack):
    assert_rate_limited(
        fake_slack, conn, "chat.postMessage", "send_message", channel=fake_slack.general, text="x"
    )


# -- find_user_by_email


def test_find_user_by_email(conn, fake_slack):
    uid = fake_slack.add_user("grace@acme.test", "Grace Hopper")
    out = run(conn, "find_user_by_email", email=" Grace@Acme.test ")
    assert out == {
        "id": uid,
        "name": "grace",
        "real_name": "Grace Hopper",
        "email": "grace@acme.test",
    }


def test_find_user_by_unknown_email_names_the_address(conn, fake_slack):
    error = fails(conn, "find_user_by_email", email="nobody@acme.test")
    assert error.permanent and "nobody@acme.test" in error.message
    assert fake_slack.calls("users.lookupByEmail")[-1].status == 200


def test_find_user_by_email_rate_limited(conn, fake_slack):
    assert_rate_limited(
        fake_slack, conn, "users.lookupByEmail", "find_user_by_email", email="a@acme.test"
    )


# -- send_direct_message


def test_send_direct_message_to_a_picked_person(conn, fake_slack):
    uid = fake_slack.add_user("grace@acme.test", "Grace Hopper")
    out = run(conn, "send_direct_message", user=uid, text="Your task is due Friday")
    dm = fake_slack.ims[uid]["id"]
    assert out["user"] == uid and out["channel"] == dm and out["ts"]
    assert [m["text"] for m in fake_slack.messages[dm]] == ["Your task is due Friday"]
    again = run(conn, "send_direct_message", user=uid, text="Reminder")
    assert again["channel"] == dm and len(fake_slack.messages[dm]) == 2


def test_send_direct_message_to_an_email_address_looks_the_person_up(conn, fake_slack):
    uid = fake_slack.add_user("grace@acme.test", "Grace Hopper")
    out = run(conn, "send_direct_message", user="grace@acme.test", text="Hello")
    assert out["user"] == uid
    assert fake_slack.calls("users.lookupByEmail")[0].body["email"] == "grace@acme.test"
    assert fake_slack.calls("conversations.open")[0].body["users"] == uid
    assert fake_slack.messages[fake_slack.ims[uid]["id"]][0]["text"] == "Hello"


def test_send_direct_message_to_an_unknown_email_says_so_and_sends_nothing(conn, fake_slack):
    error = fails(conn, "send_direct_message", user="ghost@acme.test", text="Hello")
    assert error.permanent and "ghost@acme.test" in error.message
    assert not fake_slack.calls("conversations.open") and not fake_slack.ims


def test_send_direct_message_to_an_unknown_id(conn, fake_slack):
    error = fails(conn, "send_direct_message", user="U404", text="Hello")
    assert error.permanent and "U404" in error.message


def test_send_direct_message_rate_limited(conn, fake_slack):
    uid = fake_slack.add_user("grace@acme.test", "Grace Hopper")
    assert_rate_limited(
        fake_slack, conn, "conversations.open", "send_direct_message", user=uid, text="x"
    )


# -- the people picker


def test_people_picker_pages_and_leaves_out_bots(conn, fake_slack, monkeypatch):
    for i in range(7):
        fake_slack.add_user(f"person{i}@acme.test", f"Person {i}")
    monkeypatch.setattr(pickers, "PAGE_SIZE", 3)
    field = registry.get("slack").action("send_direct_message").field("user")
    ctx = Context(conn.workspace_id, connection=conn, integration=registry.get("slack"))
    page = field.dynamic_choices(ctx, "", None)
    labels = [c.label for c in page.choices]
    pages = 1
    while page.next_page:
        page = field.dynamic_choices(ctx, "", page.next_page)
        labels += [c.label for c in page.choices]
        pages += 1
    # 9 members (installer, bot, 7 people) in pages of 3; the bot is not a person.
    assert pages == 3 and len(fake_slack.calls("users.list")) == 3
    assert (
        "Person 6 (person6@acme.test)" in labels and "Ada Installer (installer@acme.test)" in labels
    )
    assert not any("hubbot" in label for label in labels) and len(labels) == 8


def test_people_picker_search_spends_a_bounded_number_of_calls(conn, fake_slack, monkeypatch):
    for i in range(30):
        fake_slack.add_user(f"person{i}@acme.test", f"Person {i}")
    fake_slack.add_user("grace@acme.test", "Grace Hopper")
    monkeypatch.setattr(pickers, "PAGE_SIZE", 5)
    field = registry.get("slack").action("send_direct_message").field("user")
    ctx = Context(conn.workspace_id, connection=conn, integration=registry.get("slack"))
    first = field.dynamic_choices(ctx, "grace", None)
    assert first.choices == [] and first.next_page
    assert len(fake_slack.calls("users.list")) == pickers.MAX_ROUNDS
    found, page = [], first
    while page.next_page:
        page = field.dynamic_choices(ctx, "GRACE", page.next_page)
        found += [c.label for c in page.choices]
    assert found == ["Grace Hopper (grace@acme.test)"]


def test_people_picker_with_5000_members_spends_few_calls(conn, fake_slack):
    for i in range(5000):
        fake_slack.add_user(f"member{i}@acme.test", f"Member {i}")
    field = registry.get("slack").action("send_direct_message").field("user")
    ctx = Context(conn.workspace_id, connection=conn, integration=registry.get("slack"))
    first = field.dynamic_choices(ctx, "", None)
    assert len(first.choices) == pickers.PAGE_SIZE - 1 and first.next_page  # less the bot
    assert len(fake_slack.calls("users.list")) == 1
    found = field.dynamic_choices(ctx, "member 4999", None)
    assert len(fake_slack.calls("users.list")) == 1 + pickers.MAX_ROUNDS
    assert found.choices == [] and found.next_page


def test_people_picker_finds_an_email_in_one_call(conn, fake_slack):
    uid = fake_slack.add_user("grace@acme.test", "Grace Hopper")
    field = registry.get("slack").action("send_direct_message").field("user")
    ctx = Context(conn.workspace_id, connection=conn, integration=registry.get("slack"))
    page = field.dynamic_choices(ctx, "grace@acme.test", None)
    assert [(c.value, c.label) for c in page.choices] == [(uid, "Grace Hopper (grace@acme.test)")]
    assert field.dynamic_choices(ctx, "ghost@acme.test", None).choices == []
    assert not fake_slack.calls("users.list") and len(fake_slack.calls("users.lookupByEmail")) == 2


def test_people_picker_rate_limited(conn, fake_slack):
    fake_slack.rate_limit("users.list", retry_after=7)
    field = registry.get("slack").action("send_direct_message").field("user")
    ctx = Context(conn.workspace_id, connection=conn, integration=registry.get("slack"))
    with pytest.raises(IntegrationError) as caught:
        field.dynamic_choices(ctx, "", None)
    assert caught.value.retry_after == 7


# -- add_reaction


@pytest.mark.parametrize("emoji", ["thumbsup", ":thumbsup:", " :thumbsup: "])
def test_add_reaction_takes_the_name_with_or_without_colons(conn, fake_slack, emoji):
    ts = bot_post(fake_slack, fake_slack.general)
    out = run(conn, "add_reaction", channel=fake_slack.general, ts=ts, emoji=emoji)
    assert out == {"channel": fake_slack.general, "ts": ts, "emoji": "thumbsup"}
    [message] = fake_slack.messages[fake_slack.general]
    assert message["reactions"] == [
        {"name": "thumbsup", "users": [fake_slack.bot_user_id], "count": 1}
    ]


def test_add_reaction_twice_succeeds(conn, fake_slack):
    ts = bot_post(fake_slack, fake_slack.general)
    run(conn, "add_reaction", channel=fake_slack.general, ts=ts, emoji="eyes")
    run(conn, "add_reaction", channel=fake_slack.general, ts=ts, emoji="eyes")
    assert fake_slack.messages[fake_slack.general][0]["reactions"][0]["count"] == 1
    assert len(fake_slack.calls("reactions.add")) == 2


def test_add_reaction_with_an_unknown_emoji(conn, fake_slack):
    ts = bot_post(fake_slack, fake_slack.general)
    error = fails(conn, "add_reaction", channel=fake_slack.general, ts=ts, emoji=":no-such:")
    assert error.permanent and ":no-such:" in error.message


def test_add_reaction_to_a_missing_message(conn, fake_slack):
    error = fails(conn, "add_reaction", channel=fake_slack.general, ts="1.000001", emoji="eyes")
    assert error.permanent and "1.000001" in error.message and "#general" in error.message


def test_add_reaction_rate_limited(conn, fake_slack):
    ts = bot_post(fake_slack, fake_slack.general)
    assert_rate_limited(
        fake_slack,
        conn,
        "reactions.add",
        "add_reaction",
        channel=fake_slack.general,
        ts=ts,
        emoji="eyes",
    )


# -- update_message


def test_update_message(conn, fake_slack):
    posted = run(conn, "send_message", channel=fake_slack.general, text="Working on it")
    out = run(conn, "update_message", channel=posted["channel"], ts=posted["ts"], text="Done")
    assert out == {"channel": fake_slack.general, "ts": posted["ts"], "text": "Done"}
    [message] = fake_slack.messages[fake_slack.general]
    assert message["text"] == "Done" and message["edited"]


def test_update_someone_elses_message(conn, fake_slack):
    ts = fake_slack.add_message(fake_slack.general, "Mine", user=fake_slack.installer_id)["ts"]
    error = fails(conn, "update_message", channel=fake_slack.general, ts=ts, text="x")
    assert error.permanent and "only messages it posted itself" in error.message
    assert fake_slack.messages[fake_slack.general][0]["text"] == "Mine"


def test_update_a_missing_message(conn, fake_slack):
    error = fails(conn, "update_message", channel=fake_slack.general, ts="9.000009", text="x")
    assert error.permanent and "9.000009" in error.message


def test_update_message_rate_limited(conn, fake_slack):
    ts = bot_post(fake_slack, fake_slack.general)
    assert_rate_limited(
        fake_slack,
        conn,
        "chat.update",
        "update_message",
        channel=fake_slack.general,
        ts=ts,
        text="x",
    )


# -- list_messages


def seed_history(fake, count, start=1_800_000_000):
    for i in range(count):
        fake.add_message(fake.general, f"m{i}", ts=f"{start + i * 60}.000100")


def test_list_messages_pages_up_to_the_limit(conn, fake_slack, monkeypatch):
    from integrations.slack import reading

    seed_history(fake_slack, 12)
    monkeypatch.setattr(reading, "PAGE_SIZE", 5)
    out = run(conn, "list_messages", channel=fake_slack.general, limit=8)
    assert out["count"] == 8 and [m["text"] for m in out["messages"]][:2] == ["m11", "m10"]
    calls = fake_slack.calls("conversations.history")
    assert [c.body["limit"] for c in calls] == ["5", "3"]
    assert out["messages"][0]["time"] == "2027-01-15T08:11:00.000100+00:00"
    everything = run(conn, "list_messages", channel=fake_slack.general, limit=100)
    assert everything["count"] == 12 and len(fake_slack.calls("conversations.history")) == 5


@pytest.mark.parametrize(
    ("since", "count"),
    [
        ("2027-01-15T08:05:00", 7),  # no offset: UTC; m5 is at 08:05:00.0001
        ("2027-01-15T17:05:00+09:00", 7),  # the same moment in Seoul
        ("2027-01-15T08:05:00Z", 7),
        ("2027-01-15T08:05:00-01:00", 0),
        ("2027-01-16", 0),
        (None, 12),
    ],
)
def test_list_messages_since(conn, fake_slack, since, count):
    seed_history(fake_slack, 12)  # 08:00 … 08:11 UTC on 2027-01-15
    out = run(conn, "list_messages", channel=fake_slack.general, since=since, limit=50)
    assert out["count"] == count


def test_list_messages_in_a_channel_without_the_bot(conn, fake_slack):
    outside = fake_slack.add_channel("sales", member=False)
    error = fails(conn, "list_messages", channel=outside)
    assert error.message == "The bot is not in #sales — type /invite @Toolstack in #sales."


def test_list_messages_with_a_bad_date(conn, fake_slack):
    error = fails(conn, "list_messages", channel=fake_slack.general, since="next tuesday")
    assert error.permanent and "next tuesday" in error.message
    assert not fake_slack.calls("conversations.history")


def test_list_messages_rate_limited(conn, fake_slack):
    assert_rate_limited(
        fake_slack, conn, "conversations.history", "list_messages", channel=fake_slack.general
    )


# -- a recipe


def test_recipe_sends_a_direct_message_to_the_address_the_trigger_gives(
    workspace, conn, fake_slack
):
    uid = fake_slack.add_user("grace@acme.test", "Grace Hopper")
    step = {
        "key": "tell",
        "app": "slack",
        "action": "send_direct_message",
        "connection": "Acme Slack",
        "config": {"user": "{{ trigger.assignee }}", "text": "“{{ trigger.task }}” is yours"},
    }
    recipe = make_recipe(workspace, [step])
    run_ = start_run(recipe, Run.Source.MANUAL, {"assignee": "grace@acme.test", "task": "Renew"})
    assert execute(run_.id) == "succeeded"
    dm = fake_slack.ims[uid]["id"]
    assert [m["text"] for m in fake_slack.messages[dm]] == ["“Renew” is yours"]
    assert run_.steps.get().output["user"] == uid


def test_a_korean_member_reads_the_invite_hint_in_korean(conn, fake_slack):
    from django.utils import translation

    outside = fake_slack.add_channel("sales", member=False)
    with translation.override("ko"):
        error = fails(conn, "send_message", channel=outside, text="Hi")
        label = str(registry.get("slack").action("send_direct_message").label)
    assert error.message == "봇이 #sales에 없습니다. #sales에서 /invite @Toolstack을 입력하세요."
    assert label == "다이렉트 메시지 보내기"
