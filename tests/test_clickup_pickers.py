"""ClickUp's pickers through the editor's one choices endpoint: Workspace → Space → Folder
(or none) → List, statuses of the chosen list, members, and every list of a Workspace —
paged, searched, bounded in the app calls a request spends, and a 429 passed on."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from hub.connections.models import Connection
from tests.fakes.clickup import FakeClickUp

URL = "/recipes/choices/"


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def clickup(settings):
    with FakeClickUp() as fake:
        for key, value in fake.settings().items():
            setattr(settings, key, value)
        yield fake


@pytest.fixture
def connection(workspace, clickup):
    found = Connection(workspace=workspace, integration="clickup", label="Team ClickUp")
    found.set_tokens(clickup.issue_token(), None, None)
    found.save()
    return found


def ask(client, connection, field, action="create_task", **params):
    query = {"app": "clickup", "action": action, "field": field, "connection": connection.pk}
    query.update({f"config.{k}": v for k, v in params.pop("config", {}).items()})
    return client.get(URL, {**query, **params})


def test_the_chain_from_workspace_to_a_folderless_list(member_client, connection, clickup):
    ops = clickup.add_space("Operations")
    clickup.add_space("Sales")
    q3 = clickup.add_folder(ops, "Q3 Projects")
    in_folder = clickup.add_list("Launch", space_id=ops, folder_id=q3)
    loose = clickup.add_list("Inbox", space_id=ops)

    teams = ask(member_client, connection, "workspace").json()
    assert teams["choices"] == [{"value": clickup.team_id, "label": "Acme"}]
    spaces = ask(member_client, connection, "space", config={"workspace": clickup.team_id}).json()
    assert [c["label"] for c in spaces["choices"]] == ["Operations", "Sales"]
    folders = ask(member_client, connection, "folder", config={"space": ops}).json()
    assert folders["choices"] == [
        {"value": "none", "label": "No folder (lists directly in the Space)"},
        {"value": q3, "label": "Q3 Projects"},
    ]
    direct = ask(member_client, connection, "list", config={"space": ops, "folder": "none"})
    assert direct.json()["choices"] == [{"value": loose, "label": "Inbox"}]
    foldered = ask(member_client, connection, "list", config={"space": ops, "folder": q3})
    assert foldered.json()["choices"] == [{"value": in_folder, "label": "Launch"}]


def test_the_list_picker_waits_for_the_space(member_client, connection, clickup):
    answer = ask(member_client, connection, "list", config={"folder": "none"}).json()
    assert answer["choices"] == [] and answer["waiting_for"] == "space"
    assert answer["message"] == "Choose “Space” first."
    assert clickup.calls("space.lists") == []


def test_many_lists_come_page_by_page_and_search_narrows_them(member_client, connection, clickup):
    space = clickup.add_space("Clients")
    for n in range(250):
        clickup.add_list(f"Client {n:03d}", space_id=space)
    clickup.add_list("Renewals", space_id=space)
    config = {"space": space, "folder": "none"}

    first = ask(member_client, connection, "list", config=config).json()
    assert len(first["choices"]) == 100 and first["next_page"] == "100"
    second = ask(member_client, connection, "list", config=config, page="100").json()
    third = ask(member_client, connection, "list", config=config, page="200").json()
    assert len(second["choices"]) == 100 and len(third["choices"]) == 51
    assert third["next_page"] is None
    values = {c["value"] for c in first["choices"] + second["choices"] + third["choices"]}
    assert len(values) == 251
    # ClickUp answers a Space's lists all at once: read once, then paged from that answer.
    assert len(clickup.calls("space.lists")) == 1

    found = ask(member_client, connection, "list", config=config, search="renew").json()
    assert [c["label"] for c in found["choices"]] == ["Renewals"]
    assert found["next_page"] is None
    assert len(clickup.calls("space.lists")) == 1


def test_statuses_are_the_chosen_lists_own(member_client, connection, clickup):
    space = clickup.add_space("Support")
    tickets = clickup.add_list("Tickets", space_id=space)
    clickup.set_statuses(tickets, ["new", "waiting on customer", "solved"])
    answer = ask(member_client, connection, "status", config={"list": tickets}).json()
    assert [c["value"] for c in answer["choices"]] == ["new", "waiting on customer", "solved"]
    waiting = ask(member_client, connection, "status", search="wait", config={"list": tickets})
    assert [c["value"] for c in waiting.json()["choices"]] == ["waiting on customer"]


def test_members_are_picked_by_name_or_email(member_client, connection, clickup):
    grace = clickup.add_member("grace@acme.test", "Grace Hopper")
    clickup.add_member("linus@acme.test", "Linus Torvalds")
    everyone = ask(member_client, connection, "assignees").json()["choices"]
    assert {"value": str(grace), "label": "Grace Hopper (grace@acme.test)"} in everyone
    assert len(everyone) == 3
    found = ask(member_client, connection, "assignees", search="GRACE@").json()["choices"]
    assert [c["value"] for c in found] == [str(grace)]


def test_every_list_of_a_workspace_reads_a_few_spaces_per_request(
    member_client, connection, clickup
):
    for s in range(7):
        space = clickup.add_space(f"Space {s}")
        folder = clickup.add_folder(space, "Projects")
        clickup.add_list(f"Loose {s}", space_id=space)
        for n in range(20):
            clickup.add_list(f"Project {s}-{n:02d}", space_id=space, folder_id=folder)
    config = {"workspace": clickup.team_id}
    labels, page, requests = [], None, 0
    while True:
        extra = {"page": page} if page else {}
        answer = ask(member_client, connection, "list", action="find_tasks", config=config, **extra)
        body = answer.json()
        requests += 1
        labels += [c["label"] for c in body["choices"]]
        page = body["next_page"]
        if not page:
            break
        assert requests < 10
    assert len(labels) == 7 * 21 == len(set(labels))
    assert "Space 0 / Loose 0" in labels and "Space 6 / Projects / Project 6-19" in labels
    # Each request read the Space list and at most three Spaces (two calls each).
    assert len(clickup.log) <= requests * 7
    found, page, requests = [], None, 0
    while requests < 5:
        extra = {"page": page} if page else {}
        body = ask(
            member_client,
            connection,
            "list",
            action="find_tasks",
            config=config,
            search="6-19",
            **extra,
        ).json()
        requests += 1
        found += [c["label"] for c in body["choices"]]
        page = body["next_page"]
        if not page:
            break
    # Seven Spaces, three a request: the match in the last one is three requests away.
    assert found == ["Space 6 / Projects / Project 6-19"] and requests == 3


def test_a_rate_limited_picker_says_when_to_ask_again(member_client, connection, clickup):
    clickup.rate_limit("team.spaces", retry_after=4)
    answer = ask(member_client, connection, "space", config={"workspace": clickup.team_id})
    assert answer.status_code == 503
    assert 3 <= int(answer["Retry-After"]) <= 4
    assert answer.json()["error"] == "ClickUp is limiting requests; trying again shortly."


def test_a_space_the_connection_cannot_see_is_a_clear_error(member_client, connection, clickup):
    answer = ask(member_client, connection, "folder", config={"space": "123"})
    assert answer.status_code == 502
    assert "reconnect ClickUp" in answer.json()["error"]
