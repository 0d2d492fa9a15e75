"""The editor's one choices endpoint: a field's choices through a connection the member may
use, searched and paged, cached for a short time, and a clear answer when the field depends
on a value that only an earlier step gives."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation

from hub.connections.models import Connection
from integrations import registry
from integrations.base import Action, Choice, ChoicePage, Field
from tests.conftest import slack_connection

URL = "/recipes/choices/"


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def ask(client, connection=None, **params):
    query = {"app": "slack", "action": "send_message", "field": "channel", **params}
    if connection is not None:
        query["connection"] = getattr(connection, "pk", connection)
    return client.get(URL, query)


def list_calls(fake) -> int:
    return len(fake.calls("conversations.list"))


def test_the_address_is_public(db):
    assert reverse("recipe_choices") == URL


def test_channels_come_page_by_page(member_client, workspace, fake_slack):
    for i in range(250):
        fake_slack.add_channel(f"team-{i:03d}")
    connection = slack_connection(workspace, fake_slack)
    first = ask(member_client, connection)
    assert first.status_code == 200
    body = first.json()
    assert len(body["choices"]) == 200 and body["next_page"]
    assert body["choices"][0] == {"value": fake_slack.general, "label": "#general"}
    rest = ask(member_client, connection, page=body["next_page"]).json()
    assert len(rest["choices"]) == 51 and rest["next_page"] is None
    values = {c["value"] for c in body["choices"] + rest["choices"]}
    assert len(values) == 251
    assert list_calls(fake_slack) == 2


def test_search_keeps_matching_channels_and_spends_few_calls(member_client, workspace, fake_slack):
    fake_slack.add_channel("sales-emea")
    for i in range(1000):
        fake_slack.add_channel(f"team-{i:04d}")
    fake_slack.add_channel("sales-apac")
    connection = slack_connection(workspace, fake_slack)
    body = ask(member_client, connection, search="#Sales").json()
    assert [c["label"] for c in body["choices"]] == ["#sales-emea"]
    # The rest of the search is one more request away, never ten Slack pages per keystroke.
    assert body["next_page"] and list_calls(fake_slack) <= 3
    more = ask(member_client, connection, search="#Sales", page=body["next_page"]).json()
    assert [c["label"] for c in more["choices"]] == ["#sales-apac"]
    assert more["next_page"] is None


def test_a_repeated_question_is_answered_from_the_cache(member_client, workspace, fake_slack):
    connection = slack_connection(workspace, fake_slack)
    assert ask(member_client, connection).status_code == 200
    calls = list_calls(fake_slack)
    again = ask(member_client, connection)
    assert again.json()["choices"] == [{"value": fake_slack.general, "label": "#general"}]
    assert list_calls(fake_slack) == calls
    ask(member_client, connection, search="gen")
    assert list_calls(fake_slack) == calls + 1, "another search is another question"


def test_the_cache_does_not_skip_the_permission_check(
    member_client, member_user, workspace, fake_slack
):
    connection = slack_connection(workspace, fake_slack)
    assert ask(member_client, connection).status_code == 200
    Connection.objects.filter(pk=connection.pk).update(shared_with_all=False)
    assert ask(member_client, connection).status_code == 403


def test_a_connection_not_shared_with_the_member_is_refused(member_client, workspace, fake_slack):
    connection = slack_connection(workspace, fake_slack)
    Connection.objects.filter(pk=connection.pk).update(shared_with_all=False)
    answer = ask(member_client, connection)
    assert answer.status_code == 403 and answer.json()["error"]
    assert list_calls(fake_slack) == 0


def test_another_workspaces_connection_is_not_found(member_client, other_workspace, fake_slack):
    theirs = slack_connection(other_workspace, fake_slack, label="Globex Slack")
    assert ask(member_client, theirs).status_code == 404
    assert ask(member_client, "x").status_code == 400
    assert ask(member_client, 10**9).status_code == 404
    assert ask(member_client).status_code == 400, "a live picker needs a connection"
    assert list_calls(fake_slack) == 0


def test_unknown_app_action_or_field_is_not_found(member_client, workspace, fake_slack):
    connection = slack_connection(workspace, fake_slack)
    assert ask(member_client, connection, app="nope").status_code == 404
    assert ask(member_client, connection, action="nope").status_code == 404
    assert ask(member_client, connection, field="nope").status_code == 404
    assert ask(member_client, connection, field="text").status_code == 400


def test_signed_out_visitors_are_sent_to_sign_in(client, workspace, fake_slack):
    connection = slack_connection(workspace, fake_slack)
    assert ask(client, connection).status_code == 302


def test_a_slack_error_is_a_message_not_a_crash(member_client, workspace, fake_slack):
    connection = slack_connection(workspace, fake_slack)
    fake_slack.rate_limit("conversations.list", retry_after=7)
    answer = ask(member_client, connection)
    assert answer.status_code == 503 and answer["Retry-After"] == "7"
    assert "Slack" in answer.json()["error"]
    assert ask(member_client, connection).status_code == 200, "an error is not cached"


# -- fields that depend on other fields, and fixed choices


def _lists(ctx, search, page):
    _lists.calls.append(dict(ctx.config))
    space = ctx.config["space"]
    return ChoicePage([Choice(f"{space}-1", f"List one of {space}")])


_lists.calls = []

CHAINED = Action(
    key="chained",
    label="Chained",
    run=lambda ctx: {},
    effect="read",
    fields=(
        Field("space", "Space", kind="choice", choices=(Choice("s1", "Space one"),)),
        Field("list", "List", kind="choice", dynamic_choices=_lists, depends_on=("space",)),
        Field(
            "colours",
            "Colours",
            kind="choice",
            multiple=True,
            choices=(Choice("red", "Red"), Choice("green", "Green")),
        ),
    ),
)


@pytest.fixture
def chained(monkeypatch):
    slack = registry.get("slack")

    class Chained(type(slack)):
        @property
        def actions(self):
            return {CHAINED.key: CHAINED}

    registry.get.cache_clear()
    original = registry.get.__wrapped__
    monkeypatch.setattr(
        registry, "get", lambda slug: Chained() if slug == "slack" else original(slug)
    )
    _lists.calls = []


def test_a_choice_that_depends_on_a_reference_says_so(
    chained, member_client, workspace, fake_slack
):
    connection = slack_connection(workspace, fake_slack)
    answer = ask(
        member_client, connection, action="chained", field="list", **{"config.space": "{{ x }}"}
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["choices"] == [] and body["waiting_for"] == "space"
    assert "earlier step" in body["message"] and "Space" in body["message"]
    empty = ask(member_client, connection, action="chained", field="list").json()
    assert empty["waiting_for"] == "space" and "Choose “Space” first" in empty["message"]
    assert _lists.calls == []


def test_depends_on_values_reach_the_provider_and_the_cache_key(
    chained, member_client, workspace, fake_slack
):
    connection = slack_connection(workspace, fake_slack)
    for space in ("s1", "s1", "s2"):
        ask(member_client, connection, action="chained", field="list", **{"config.space": space})
    assert _lists.calls == [{"space": "s1"}, {"space": "s2"}]
    body = ask(
        member_client, connection, action="chained", field="list", **{"config.space": "s2"}
    ).json()
    assert body == {"choices": [{"value": "s2-1", "label": "List one of s2"}], "next_page": None}


def test_fixed_choices_need_no_connection_and_are_searched(chained, member_client):
    body = ask(member_client, action="chained", field="colours", search="gre").json()
    assert body == {"choices": [{"value": "green", "label": "Green"}], "next_page": None}


def test_the_message_reads_in_korean(chained, member_client, workspace, fake_slack):
    connection = slack_connection(workspace, fake_slack)
    query = {"app": "slack", "action": "chained", "field": "list", "connection": connection.pk}
    # The middleware leaves Korean active in this thread; the override puts it back after.
    with translation.override("en"):
        body = member_client.get(URL, query, HTTP_ACCEPT_LANGUAGE="ko").json()
    assert "Space" in body["message"] and "먼저" in body["message"]
