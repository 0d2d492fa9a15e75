from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from notion_client import APIErrorCode, APIResponseError, Client
from notion_client.errors import UnknownHTTPResponseError
from notion_client.helpers import collect_paginated_api

from tests.fakes.kit import consent
from tests.fakes.notion import FakeNotion

REDIRECT = "http://127.0.0.1:8000/connections/notion/callback"


@pytest.fixture
def notion():
    with FakeNotion() as fake:
        yield fake


def client(fake: FakeNotion, token: str | None = None, **options) -> Client:
    return Client(auth=token or fake.issue_token(), base_url=fake.base_url, retry=False, **options)


def authorize(fake: FakeNotion, **extra: str) -> str:
    params = {
        "client_id": fake.client_id,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "owner": "user",
        "state": "n-state",
        **extra,
    }
    return f"{fake.settings()['NOTION_AUTHORIZE_URL']}?{urlencode(params)}"


def code_of(location: str) -> str:
    assert location.startswith(REDIRECT)
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["n-state"]
    return query["code"][0]


def token_call(fake: FakeNotion, body: dict, auth=None) -> requests.Response:
    return requests.post(
        fake.settings()["NOTION_TOKEN_URL"],
        json=body,
        auth=auth or (fake.client_id, fake.client_secret),
        timeout=5,
    )


# ---------------------------------------------------------------- OAuth


def test_full_oauth_flow_with_rotation_and_revoke(notion):
    code = code_of(consent(authorize(notion)))
    oauth = Client(base_url=notion.base_url, retry=False).oauth
    token = oauth.token(
        client_id=notion.client_id,
        client_secret=notion.client_secret,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
    )
    assert token["token_type"] == "bearer"
    assert token["bot_id"] == notion.bot_id
    assert token["workspace_name"] == "Acme HQ"
    assert token["owner"]["type"] == "user"
    assert token["owner"]["user"]["person"]["email"] == "ada@acme.test"
    assert {"workspace_id", "workspace_icon", "request_id", "refresh_token"} <= set(token)

    me = client(notion, token["access_token"]).users.me()
    assert me["type"] == "bot" and me["id"] == token["bot_id"]
    assert me["bot"]["workspace_name"] == "Acme HQ"

    fresh = token_call(
        notion, {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}
    )
    assert fresh.status_code == 200
    new = fresh.json()
    assert new["refresh_token"] != token["refresh_token"]
    stale = token_call(
        notion, {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}
    )
    assert stale.status_code == 400 and stale.json()["error"] == "invalid_grant"

    oauth.revoke(
        client_id=notion.client_id, client_secret=notion.client_secret, token=new["access_token"]
    )
    with pytest.raises(APIResponseError) as err:
        client(notion, new["access_token"]).users.me()
    assert err.value.code == APIErrorCode.Unauthorized and err.value.status == 401


def test_redirect_uri_required_when_it_was_in_authorize(notion):
    notion.auto_approve = True
    code = code_of(consent(authorize(notion)))
    missing = token_call(notion, {"grant_type": "authorization_code", "code": code})
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"


def test_code_replay_and_bad_client_are_refused(notion):
    notion.auto_approve = True
    code = code_of(consent(authorize(notion)))
    body = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    wrong = token_call(notion, body, auth=(notion.client_id, "wrong"))
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    assert token_call(notion, body).status_code == 200
    replay = token_call(notion, body)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"


def test_authorize_requires_owner_user_and_cancel_denies(notion):
    bad = requests.get(authorize(notion, owner="workspace"), timeout=5)
    assert bad.status_code == 400
    denied = consent(authorize(notion), allow=False)
    assert parse_qs(urlsplit(denied).query) == {"error": ["access_denied"], "state": ["n-state"]}


def test_fail_refresh(notion):
    notion.auto_approve = True
    code = code_of(consent(authorize(notion)))
    token = token_call(
        notion, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    ).json()
    notion.fail_refresh()
    body = {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}
    assert token_call(notion, body).json()["error"] == "invalid_grant"
    assert token_call(notion, body).status_code == 200


# ---------------------------------------------------------------- API


def test_missing_version_header(notion):
    reply = requests.get(
        f"{notion.base_url}/v1/users/me",
        headers={"Authorization": f"Bearer {notion.issue_token()}"},
        timeout=5,
    )
    assert reply.status_code == 400
    assert reply.json()["code"] == "missing_version"
    assert reply.json()["object"] == "error" and reply.json()["request_id"]


def test_unknown_ids_and_bad_uuid(notion):
    api = client(notion)
    with pytest.raises(APIResponseError) as err:
        api.pages.retrieve(page_id="0" * 32)
    assert err.value.code == APIErrorCode.ObjectNotFound and err.value.status == 404
    with pytest.raises(APIResponseError) as err:
        api.databases.retrieve(database_id="not-a-uuid")
    assert err.value.code == APIErrorCode.ValidationError


def test_database_exposes_data_sources_and_schema(notion):
    db_id, ds_id = notion.add_database("Tasks", {"Name": "title", "Status": "select"})
    api = client(notion)
    db = api.databases.retrieve(database_id=db_id.replace("-", ""))
    assert db["data_sources"] == [{"id": ds_id, "name": "Tasks"}]
    ds = api.data_sources.retrieve(data_source_id=ds_id)
    assert ds["properties"]["Status"]["type"] == "select"
    assert ds["parent"] == {"type": "database_id", "database_id": db_id}


def test_create_page_in_data_source_and_update(notion):
    _, ds_id = notion.add_database(
        "Tasks", {"Name": "title", "Notes": "rich_text", "Done": "checkbox"}
    )
    api = client(notion)
    page = api.pages.create(
        parent={"type": "data_source_id", "data_source_id": ds_id},
        properties={
            "Name": {"title": [{"text": {"content": "Write fakes"}}]},
            "Notes": {"rich_text": [{"text": {"content": "soon"}}]},
        },
        children=[
            {
                "object": "block",
                "type": "paragraph",
                "paragraph": {"rich_text": [{"type": "text", "text": {"content": "hi"}}]},
            }
        ],
    )
    assert page["object"] == "page"
    assert page["parent"]["data_source_id"] == ds_id
    assert page["properties"]["Name"]["title"][0]["plain_text"] == "Write fakes"
    updated = api.pages.update(page_id=page["id"], properties={"Done": {"checkbox": True}})
    assert updated["properties"]["Done"]["checkbox"] is True
    trashed = api.pages.update(page_id=page["id"], in_trash=True)
    assert trashed["in_trash"] is True
    assert api.pages.retrieve(page_id=page["id"])["in_trash"] is True
    blocks = api.blocks.children.list(block_id=page["id"])
    assert [b["type"] for b in blocks["results"]] == ["paragraph"]


def test_page_validation_errors(notion):
    _, ds_id = notion.add_database("Tasks")
    api = client(notion)
    parent = {"data_source_id": ds_id}
    with pytest.raises(APIResponseError) as err:
        api.pages.create(
            parent=parent, properties={"Name": {"title": [{"text": {"content": "x" * 2001}}]}}
        )
    assert err.value.code == APIErrorCode.ValidationError
    assert "2000" in str(err.value)
    with pytest.raises(APIResponseError) as err:
        api.pages.create(parent=parent, properties={"Nope": {"rich_text": []}})
    assert err.value.code == APIErrorCode.ValidationError
    with pytest.raises(APIResponseError) as err:
        api.pages.create(parent={"data_source_id": "1" * 32}, properties={})
    assert err.value.code == APIErrorCode.ObjectNotFound


def test_subpage_under_page_and_append_children_positions(notion):
    _, ds_id = notion.add_database("Docs")
    top = notion.add_page(ds_id, "Top")
    api = client(notion)
    sub = api.pages.create(
        parent={"page_id": top["id"]},
        properties={"title": {"title": [{"text": {"content": "Sub"}}]}},
    )
    assert sub["parent"] == {"type": "page_id", "page_id": top["id"]}

    def para(text: str) -> dict:
        return {"type": "paragraph", "paragraph": {"rich_text": [{"text": {"content": text}}]}}

    first = api.blocks.children.append(block_id=sub["id"], children=[para("a"), para("c")])
    api.blocks.children.append(
        block_id=sub["id"],
        children=[para("b")],
        position={"type": "after_block", "after_block": {"id": first["results"][0]["id"]}},
    )
    api.blocks.children.append(block_id=sub["id"], children=[para("0")], position={"type": "start"})
    listed = api.blocks.children.list(block_id=sub["id"])["results"]
    assert [b["paragraph"]["rich_text"][0]["plain_text"] for b in listed] == ["0", "a", "b", "c"]
    with pytest.raises(APIResponseError) as err:
        api.blocks.children.append(block_id=sub["id"], children=[para("x")] * 101)
    assert err.value.code == APIErrorCode.ValidationError


def test_query_filters_sorts_and_paginates(notion):
    _, ds_id = notion.add_database(
        "Tasks", {"Name": "title", "Status": "select", "Points": "number"}
    )
    for i in range(7):
        notion.add_page(
            ds_id,
            f"t{i}",
            {"Status": {"select": {"name": "Done" if i % 2 else "Todo"}}, "Points": {"number": i}},
        )
        notion.advance(minutes=1)  # page timestamps are minute-truncated
    api = client(notion)
    done = api.data_sources.query(
        data_source_id=ds_id,
        filter={"property": "Status", "select": {"equals": "Done"}},
        sorts=[{"property": "Points", "direction": "ascending"}],
    )
    assert [p["properties"]["Points"]["number"] for p in done["results"]] == [1, 3, 5]
    everything = collect_paginated_api(api.data_sources.query, data_source_id=ds_id, page_size=3)
    assert len(everything) == 7
    assert len({p["id"] for p in everything}) == 7
    first = api.data_sources.query(data_source_id=ds_id, page_size=3)
    assert first["has_more"] is True and first["next_cursor"] == everything[3]["id"]
    cutoff = everything[3]["created_time"]
    newer = api.data_sources.query(
        data_source_id=ds_id,
        filter={"timestamp": "created_time", "created_time": {"after": cutoff}},
    )
    assert {p["id"] for p in newer["results"]} == {p["id"] for p in everything[:3]}
    with pytest.raises(APIResponseError) as err:
        api.data_sources.query(data_source_id=ds_id, page_size=101)
    assert err.value.code == APIErrorCode.ValidationError


def test_search_filters_and_paginates(notion):
    _, ds_id = notion.add_database("Roadmap")
    for i in range(5):
        notion.add_page(ds_id, f"Plan {i}")
    notion.add_page(ds_id, "Other")
    api = client(notion)
    pages = collect_paginated_api(
        api.search, query="plan", filter={"property": "object", "value": "page"}, page_size=2
    )
    assert sorted(api_title(p) for p in pages) == [f"Plan {i}" for i in range(5)]
    sources = api.search(filter={"property": "object", "value": "data_source"})
    assert [s["id"] for s in sources["results"]] == [ds_id]
    with pytest.raises(APIResponseError) as err:
        api.search(filter={"property": "object", "value": "database"})
    assert err.value.code == APIErrorCode.ValidationError


def api_title(page: dict) -> str:
    return page["properties"]["Name"]["title"][0]["plain_text"]


def test_rate_limit_is_honoured_by_notion_client_retries(notion):
    notion.rate_limit("users.me", retry_after=0, times=1)
    retrying = Client(auth=notion.issue_token(), base_url=notion.base_url)
    assert retrying.users.me()["type"] == "bot"
    assert [c.status for c in notion.calls("users.me")] == [429, 200]
    notion.rate_limit("users.me", retry_after=2)
    with pytest.raises(APIResponseError) as err:
        client(notion).users.me()
    assert err.value.code == APIErrorCode.RateLimited
    assert err.value.headers["retry-after"] == "2"


def test_server_errors_use_known_codes(notion):
    notion.fail_next("users.me", status=503)
    with pytest.raises(APIResponseError) as err:
        client(notion).users.me()
    assert err.value.code == APIErrorCode.ServiceUnavailable


def test_token_endpoint_errors_are_not_api_response_errors(notion):
    # The OAuth-shaped body has no "code", so notion-client cannot map it to APIErrorCode.
    oauth = Client(base_url=notion.base_url, retry=False).oauth
    with pytest.raises(UnknownHTTPResponseError) as err:
        oauth.token(
            client_id=notion.client_id,
            client_secret=notion.client_secret,
            grant_type="refresh_token",
            refresh_token="nrt_unknown",
        )
    assert err.value.status == 400
    assert '"invalid_grant"' in err.value.body


# -- database rows: typed values, filters per type, members, minute-truncated times


def test_property_values_are_checked_per_type_with_validation_errors(notion):
    _, ds_id = notion.add_database(
        "Typed",
        {"Name": "title", "Points": "number", "Stage": ("status", ["Todo", "Done"]),
         "Tags": ("multi_select", ["a"]), "Due": "date", "Owner": "people", "Done": "checkbox"},
    )  # fmt: skip
    api = client(notion)
    parent = {"type": "data_source_id", "data_source_id": ds_id}

    def refused(**properties):
        with pytest.raises(APIResponseError) as err:
            api.pages.create(parent=parent, properties=properties)
        assert err.value.code == APIErrorCode.ValidationError
        return str(err.value)

    assert "body.properties.Points.number should be a number" in refused(Points={"number": "3"})
    assert 'Status option "Blocked" does not exist' in refused(
        Stage={"status": {"name": "Blocked"}}
    )
    assert "Due.date.start should be a valid ISO 8601" in refused(Due={"date": {"start": "Friday"}})
    assert "Owner.people[0].id" in refused(Owner={"people": [{"id": "0" * 32}]})
    assert "Done.checkbox should be a boolean" in refused(Done={"checkbox": "yes"})
    # A select or multi-select option that does not exist yet is added to the schema.
    page = api.pages.create(
        parent=parent, properties={"Tags": {"multi_select": [{"name": "a"}, {"name": "b"}]}}
    )
    assert [t["name"] for t in page["properties"]["Tags"]["multi_select"]] == ["a", "b"]
    schema = api.data_sources.retrieve(data_source_id=ds_id)["properties"]["Tags"]
    assert [o["name"] for o in schema["multi_select"]["options"]] == ["a", "b"]


def test_filters_follow_the_property_type(notion):
    _, ds_id = notion.add_database(
        "Typed", {"Name": "title", "Points": "number", "Done": "checkbox", "Owner": "people"}
    )
    ada = notion.add_user("Ada", "ada@acme.test")
    notion.add_page(
        ds_id, "one", {"Points": {"number": 1}, "Owner": {"people": [{"id": ada["id"]}]}}
    )
    notion.add_page(ds_id, "two", {"Points": {"number": 2}, "Done": {"checkbox": True}})
    api = client(notion)

    def names(flt):
        found = api.data_sources.query(data_source_id=ds_id, filter=flt)["results"]
        return sorted(p["properties"]["Name"]["title"][0]["plain_text"] for p in found)

    assert names({"property": "Points", "number": {"greater_than_or_equal_to": 2}}) == ["two"]
    assert names({"property": "Done", "checkbox": {"equals": False}}) == ["one"]
    assert names({"property": "Owner", "people": {"contains": ada["id"]}}) == ["one"]
    assert names({"property": "Name", "title": {"starts_with": "t"}}) == ["two"]
    with pytest.raises(APIResponseError) as err:
        names({"property": "Points", "number": {"contains": 1}})
    assert err.value.code == APIErrorCode.ValidationError


def test_users_are_listed_page_by_page(notion):
    for i in range(120):
        notion.add_user(f"P{i}", f"p{i}@acme.test")
    api = client(notion)
    first = api.users.list(page_size=100)
    assert len(first["results"]) == 100 and first["has_more"]
    everyone = collect_paginated_api(api.users.list)
    assert len(everyone) == 122  # the owner, 120 people and the bot
    assert everyone[-1]["type"] == "bot"
    assert api.users.retrieve(user_id=everyone[1]["id"])["person"]["email"] == "p0@acme.test"


def test_page_times_are_truncated_to_the_minute(notion):
    _, ds_id = notion.add_database("Times")
    pages = [notion.add_page(ds_id, f"p{i}") for i in range(5)]
    stamps = {p["created_time"] for p in pages}
    assert len(stamps) == 1 and next(iter(stamps)).endswith(":00.000Z")
    notion.advance(minutes=2)
    later = notion.add_page(ds_id, "later")
    assert later["created_time"] > next(iter(stamps))


def test_a_database_may_hold_several_data_sources(notion):
    db_id, ds_id = notion.add_database("Projects")
    extra = notion.add_data_source(db_id, "Archive")
    api = client(notion)
    listed = api.databases.retrieve(database_id=db_id)["data_sources"]
    assert [d["id"] for d in listed] == [ds_id, extra]
    assert api.data_sources.retrieve(data_source_id=extra)["parent"]["database_id"] == db_id
