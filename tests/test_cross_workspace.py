"""Another workspace's objects are a 404 on every page and every POST, whatever the
visitor's role; an admin-only page is the friendly 403 for members, with no traceback."""

from __future__ import annotations

import logging
import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from hub.accounts.models import Invite, Membership
from hub.connections.models import Connection
from hub.engine.models import Run
from hub.engine.runs import start_run
from hub.recipes.models import Recipe
from tests.conftest import make_recipe, make_user

# Every address that names an object by id, with the method and the object it names.
# test_every_address_with_an_id_is_listed keeps this table complete.
ADDRESSES = [
    ("connection_detail", "get", "connection"),
    ("connection_settings", "post", "connection"),
    ("connection_test", "post", "connection"),
    ("connection_disconnect", "post", "connection"),
    ("connection_models", "post", "connection"),
    ("connection_replace_key", "post", "connection"),
    ("revoke_invite", "post", "invite"),
    ("change_role", "post", "membership"),
    ("remove_member", "post", "membership"),
    ("recipe_detail", "get", "recipe"),
    ("recipe_run", "post", "recipe"),
    ("recipe_publish", "post", "recipe"),
    ("recipe_pause", "post", "recipe"),
    ("recipe_secret", "post", "recipe"),
    ("recipe_delete", "get", "recipe"),
    ("recipe_delete", "post", "recipe"),
    ("recipe_test_trigger", "post", "recipe"),
    ("recipe_poll_interval", "post", "recipe"),
    ("run_detail", "get", "run"),
    ("run_cancel", "post", "run"),
    ("run_replay", "post", "run"),
    # The recipe editor (its own tests walk them too: tests/test_editor.py).
    ("editor", "get", "recipe"),
    ("editor_name", "post", "recipe"),
    ("editor_trigger", "post", "recipe"),
    ("editor_test_trigger", "post", "recipe"),
    ("editor_test_trigger_wait", "get", "recipe"),
    ("editor_publish", "post", "recipe"),
    ("editor_data", "get", "recipe"),
    ("editor_add_step", "post", "recipe"),
    ("editor_step", "post", "recipe"),
    ("editor_test_step", "post", "recipe"),
    ("editor_move_step", "post", "recipe"),
    ("editor_duplicate_step", "post", "recipe"),
    ("editor_delete_step", "post", "recipe"),
    ("editor_versions", "get", "recipe"),
    ("editor_restore", "post", "recipe"),
    ("editor_publish_check", "get", "recipe"),
    # Test cases and evaluations (tests/test_llm_evaluation_pages.py).
    ("eval_cases", "get", "recipe"),
    ("eval_case_new", "get", "recipe"),
    ("eval_case_new", "post", "recipe"),
    ("eval_case_edit", "get", "recipe"),
    ("eval_case_edit", "post", "recipe"),
    ("eval_case_delete", "post", "recipe"),
    ("eval_start", "post", "recipe"),
    ("eval_result", "get", "recipe"),
    ("run_save_case", "post", "run"),
]
# Further arguments after the id: their recipe's step key, its version number.
MORE_ARGS = {
    "editor_step": ["a"],
    "editor_test_step": ["a"],
    "editor_move_step": ["a"],
    "editor_duplicate_step": ["a"],
    "editor_delete_step": ["a"],
    "editor_restore": [1],
    "editor_publish_check": [1],
    "eval_case_edit": [1],
    "eval_case_delete": [1],
    "eval_result": [1],
}


def _patterns(resolvers, prefix=""):
    for entry in resolvers:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.name


def test_every_address_with_an_id_is_listed():
    named = {name for route, name in _patterns(get_resolver().url_patterns) if "<int:" in route}
    assert named == {name for name, _method, _kind in ADDRESSES}


@pytest.fixture
def theirs(other_workspace, kit):
    """One object of each kind in the other workspace."""
    their_admin = make_user("boss@globex.test", other_workspace, Membership.Role.ADMIN)
    their_member = make_user("mia@globex.test", other_workspace, Membership.Role.MEMBER)
    recipe = make_recipe(
        other_workspace, [{"key": "a", "app": "kit", "action": "echo", "config": {}}]
    )
    Recipe.objects.filter(pk=recipe.pk).update(owner=their_admin)
    run = start_run(recipe, Run.Source.MANUAL, {})
    connection = Connection.objects.create(
        workspace=other_workspace, integration="slack", label="Globex Slack"
    )
    invite, _token = Invite.issue(other_workspace, "new@globex.test", "member", their_admin)
    return {
        "connection": connection,
        "invite": invite,
        "membership": Membership.objects.get(user=their_member),
        "recipe": recipe,
        "run": run,
    }


@pytest.mark.parametrize("role", [Membership.Role.ADMIN, Membership.Role.MEMBER])
@pytest.mark.parametrize(("name", "method", "kind"), ADDRESSES)
def test_another_workspaces_object_is_404(workspace, theirs, role, name, method, kind):
    from django.urls import reverse

    visitor = make_user(f"{role}@acme.test", workspace, role)
    client = Client()
    client.force_login(visitor)
    url = reverse(name, args=[theirs[kind].pk, *MORE_ARGS.get(name, [])])
    data = {"role": "admin", "label": "Mine now", "paused": "1"} if method == "post" else None
    response = getattr(client, method)(url, data)
    assert response.status_code == 404, (url, response.status_code)
    # Nothing of theirs changed.
    assert Recipe.objects.filter(pk=theirs["recipe"].pk, state="active").exists()
    assert Membership.objects.filter(pk=theirs["membership"].pk, role="member").exists()
    assert Connection.objects.filter(label="Globex Slack", status="active").exists()
    assert Invite.objects.pending().filter(pk=theirs["invite"].pk).exists()


@pytest.mark.parametrize("role", [Membership.Role.ADMIN, Membership.Role.MEMBER])
def test_reconnecting_another_workspaces_connection_is_404(workspace, theirs, role):
    visitor = make_user(f"{role}@acme.test", workspace, role)
    client = Client()
    client.force_login(visitor)
    response = client.post(
        "/connections/apps/slack/connect/", {"reconnect": theirs["connection"].pk}
    )
    assert response.status_code == 404


ADMIN_PAGES = [
    ("get", "/system/"),
    ("get", "/audit/"),
    ("get", "/connections/apps/slack/"),
    ("post", "/connections/apps/slack/connect/"),
    ("post", "/members/invite/"),
    ("post", "/runs/retention/"),
]


@pytest.mark.parametrize(("method", "url"), ADMIN_PAGES)
def test_a_member_on_an_admin_page_gets_the_friendly_403_quietly(
    member_client, caplog, method, url
):
    caplog.set_level(logging.INFO)
    response = getattr(member_client, method)(url, {"days": "3"} if method == "post" else None)
    assert response.status_code == 403
    text = response.content.decode()
    assert "You can't open this page" in text and "Home" in text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records]


def test_a_member_publishing_someone_elses_recipe_gets_the_friendly_403_quietly(
    workspace, kit, admin_user, member_client, caplog
):
    recipe = make_recipe(workspace, [{"key": "a", "app": "kit", "action": "echo", "config": {}}])
    Recipe.objects.filter(pk=recipe.pk).update(owner=admin_user)
    caplog.set_level(logging.INFO)
    response = member_client.post(f"/recipes/{recipe.pk}/publish/")
    assert response.status_code == 403
    assert re.search(r"owner or an admin", response.content.decode())
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
