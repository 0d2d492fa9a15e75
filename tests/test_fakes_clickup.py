from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from tests.fakes.clickup import FakeClickUp
from tests.fakes.kit import consent

REDIRECT = "http://127.0.0.1:8000/connections/clickup/callback"


@pytest.fixture
def clickup():
    with FakeClickUp() as fake:
        yield fake


class Api:
    def __init__(self, fake: FakeClickUp, token: str) -> None:
        self.base = fake.settings()["CLICKUP_API_URL"]
        self.headers = {"Authorization": token}

    def get(self, path: str, **params) -> requests.Response:
        return requests.get(self.base + path, params=params, headers=self.headers, timeout=5)

    def send(self, method: str, path: str, body: dict | None = None) -> requests.Response:
        return requests.request(
            method, self.base + path, json=body, headers=self.headers, timeout=5
        )


@pytest.fixture
def api(clickup):
    return Api(clickup, clickup.issue_token())


@pytest.fixture
def board(clickup):
    space = clickup.add_space("Engineering")
    folder = clickup.add_folder(space, "Q3")
    return {
        "space": space,
        "folder": folder,
        "list": clickup.add_list("Sprint", space_id=space, folder_id=folder),
        "loose": clickup.add_list("Inbox", space_id=space),
    }


def authorize(fake: FakeClickUp, **extra: str) -> str:
    params = {"client_id": fake.client_id, "redirect_uri": REDIRECT, "state": "c-state", **extra}
    return f"{fake.settings()['CLICKUP_AUTHORIZE_URL']}?{urlencode(params)}"


def exchange(fake: FakeClickUp, code: str, secret: str | None = None) -> requests.Response:
    params = {
        "client_id": fake.client_id,
        "client_secret": secret or fake.client_secret,
        "code": code,
    }
    return requests.post(fake.settings()["CLICKUP_TOKEN_URL"], params=params, timeout=5)


# ---------------------------------------------------------------- OAuth


def test_full_oauth_flow_identity_and_revocation(clickup):
    location = consent(authorize(clickup))
    query = parse_qs(urlsplit(location).query)
    assert location.startswith(REDIRECT) and query["state"] == ["c-state"]
    granted = exchange(clickup, query["code"][0])
    assert granted.status_code == 200
    assert list(granted.json()) == ["access_token"]
    api = Api(clickup, granted.json()["access_token"])
    assert api.get("/user").json()["user"]["email"] == "ada@acme.test"
    teams = api.get("/team").json()["teams"]
    assert [t["id"] for t in teams] == [clickup.team_id]
    replay = exchange(clickup, query["code"][0])
    assert replay.status_code >= 400 and "ECODE" in replay.json()
    # ClickUp has no revoke endpoint: the user removing the app is simulated.
    clickup.revoke_token(granted.json()["access_token"])
    dead = api.get("/user")
    assert dead.status_code == 401
    assert dead.json() == {"err": "Token invalid", "ECODE": "OAUTH_017"}


def test_token_needs_query_params_and_right_secret(clickup):
    clickup.auto_approve = True
    code = parse_qs(urlsplit(consent(authorize(clickup))).query)["code"][0]
    in_body = requests.post(
        clickup.settings()["CLICKUP_TOKEN_URL"],
        data={"client_id": clickup.client_id, "client_secret": clickup.client_secret, "code": code},
        timeout=5,
    )
    assert in_body.status_code == 400
    wrong = exchange(clickup, code, secret="nope")
    assert wrong.status_code == 401 and wrong.json()["err"]
    assert exchange(clickup, code).status_code == 200


def test_cancel_and_bad_client(clickup):
    denied = consent(authorize(clickup), allow=False)
    assert parse_qs(urlsplit(denied).query) == {"error": ["access_denied"], "state": ["c-state"]}
    assert requests.get(authorize(clickup, client_id="x"), timeout=5).status_code == 400


def test_auth_header_is_raw_not_bearer(clickup):
    token = clickup.issue_token()
    bearer = requests.get(
        f"{clickup.base_url}/user", headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    assert bearer.status_code == 401
    assert requests.get(f"{clickup.base_url}/user", timeout=5).json()["ECODE"] == "OAUTH_017"
    personal = clickup.issue_token(personal=True)
    assert personal.startswith("pk_")
    assert Api(clickup, personal).get("/user").status_code == 200


# ---------------------------------------------------------------- hierarchy


def test_hierarchy(clickup, api, board):
    spaces = api.get(f"/team/{clickup.team_id}/space").json()["spaces"]
    assert [s["id"] for s in spaces] == [board["space"]]
    assert [st["status"] for st in spaces[0]["statuses"]] == ["to do", "in progress", "complete"]
    folders = api.get(f"/space/{board['space']}/folder").json()["folders"]
    assert [f["id"] for f in folders] == [board["folder"]]
    assert [lst["id"] for lst in folders[0]["lists"]] == [board["list"]]
    assert [lst["id"] for lst in api.get(f"/folder/{board['folder']}/list").json()["lists"]] == [
        board["list"]
    ]
    loose = api.get(f"/space/{board['space']}/list").json()["lists"]
    assert [lst["id"] for lst in loose] == [board["loose"]]
    lst = api.get(f"/list/{board['list']}").json()
    assert lst["name"] == "Sprint" and lst["folder"]["id"] == board["folder"]


def test_other_team_is_not_authorized(clickup, board):
    other = clickup.add_team("Elsewhere")
    limited = Api(clickup, clickup.issue_token(teams=[other]))
    reply = limited.get(f"/list/{board['list']}")
    assert reply.status_code == 401 and reply.json()["ECODE"] == "OAUTH_027"
    assert [t["name"] for t in limited.get("/team").json()["teams"]] == ["Elsewhere"]


# ---------------------------------------------------------------- tasks


def test_create_get_update_delete_task(api, board):
    due = int(time.time() * 1000) + 86_400_000
    created = api.send(
        "POST",
        f"/list/{board['list']}/task",
        {
            "name": "Ship fakes",
            "description": "all four",
            "priority": 2,
            "due_date": due,
            "tags": ["infra"],
        },
    )
    assert created.status_code == 200
    task = created.json()
    assert task["status"]["status"] == "to do" and task["priority"]["priority"] == "high"
    assert task["due_date"] == str(due) and task["list"]["id"] == board["list"]
    assert task["url"].endswith(task["id"])
    assert api.get(f"/task/{task['id']}").json()["name"] == "Ship fakes"
    done = api.send("PUT", f"/task/{task['id']}", {"status": "complete"}).json()
    assert done["status"]["type"] == "closed" and done["date_closed"]
    bad = api.send("PUT", f"/task/{task['id']}", {"status": "nope"})
    assert bad.status_code == 400 and "ECODE" in bad.json()
    assert api.send("DELETE", f"/task/{task['id']}").status_code == 204
    assert api.get(f"/task/{task['id']}").status_code == 404


def test_create_task_requires_name(api, board):
    reply = api.send("POST", f"/list/{board['list']}/task", {"description": "no name"})
    assert reply.status_code == 400
    assert reply.json() == {"err": "Task name invalid", "ECODE": "INPUT_005"}


def test_list_tasks_paginates_and_filters(clickup, api, board):
    now = int(time.time() * 1000)
    for i in range(105):
        clickup.add_task(board["list"], f"t{i}", due_date=now + i * 1000)
    clickup.add_task(board["list"], "closed one", status="complete")
    first = api.get(f"/list/{board['list']}/task", page=0).json()
    second = api.get(f"/list/{board['list']}/task", page=1).json()
    assert (len(first["tasks"]), first["last_page"]) == (100, False)
    assert (len(second["tasks"]), second["last_page"]) == (5, True)
    ids = {t["id"] for t in first["tasks"] + second["tasks"]}
    assert len(ids) == 105
    with_closed = api.get(f"/list/{board['list']}/task", include_closed="true", page=1).json()
    assert len(with_closed["tasks"]) == 6
    only_done = api.get(f"/list/{board['list']}/task", **{"statuses[]": "complete"}).json()
    assert [t["name"] for t in only_done["tasks"]] == ["closed one"]
    due_soon = api.get(f"/list/{board['list']}/task", due_date_lt=now + 3000).json()
    assert sorted(t["name"] for t in due_soon["tasks"]) == ["t0", "t1", "t2"]
    late = api.get(f"/list/{board['list']}/task", due_date_gt=now + 102_000).json()
    assert sorted(t["name"] for t in late["tasks"]) == ["t103", "t104"]


def test_comments(api, board, clickup):
    task = clickup.add_task(board["list"], "Discuss")
    made = api.send("POST", f"/task/{task['id']}/comment", {"comment_text": "first"})
    api.send("POST", f"/task/{task['id']}/comment", {"comment_text": "second"})
    assert made.status_code == 200 and {"id", "hist_id", "date"} <= set(made.json())
    comments = api.get(f"/task/{task['id']}/comment").json()["comments"]
    assert [c["comment_text"] for c in comments] == ["second", "first"]
    assert api.send("POST", f"/task/{task['id']}/comment", {}).status_code == 400


def test_webhook_registration_and_signed_delivery(clickup, api, board):
    reply = api.send(
        "POST",
        f"/team/{clickup.team_id}/webhook",
        {
            "endpoint": "http://127.0.0.1:8000/hooks/clickup",
            "events": ["taskCreated"],
            "list_id": board["list"],
        },
    )
    assert reply.status_code == 200
    hook = reply.json()["webhook"]
    assert hook["secret"] and hook["events"] == ["taskCreated"]
    body, headers = clickup.webhook_delivery(hook["id"], "taskCreated", "abc123")
    expected = hmac.new(hook["secret"].encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Signature"] == expected
    assert json.loads(body)["webhook_id"] == hook["id"]
    listed = api.get(f"/team/{clickup.team_id}/webhook").json()["webhooks"]
    assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]


def test_rate_limit_headers(clickup, api):
    clickup.limit_rate(3, 60)
    codes = [api.get("/user").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = api.get("/user")
    assert limited.headers["X-RateLimit-Limit"] == "3"
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    reset = int(limited.headers["X-RateLimit-Reset"])
    assert time.time() < reset <= time.time() + 61
    assert "Retry-After" not in limited.headers
    assert limited.json()["err"]
