"""Who may use what in recipes: connection sharing at publish and at run time, who sees a
run's data, import never overwriting someone else's recipe, and steps holding connection ids
so that renaming a connection changes nothing."""

from __future__ import annotations

import importlib
import json

import pytest
from django.core.management import call_command
from django.test import Client

from hub.accounts.models import AuditEvent, Membership
from hub.connections.models import Connection
from hub.engine.executor import execute
from hub.engine.models import Run
from hub.engine.runs import start_run
from hub.recipes.models import Recipe, RecipeVersion
from hub.recipes.services import export_recipe, import_recipe, publish_recipe
from tests.conftest import make_user

SECRET_OUTPUT = "payroll-figures-4711"


@pytest.fixture
def keyed_kit(kit, monkeypatch):
    """The stand-in app, needing a connection (an API key) like a real app does."""
    monkeypatch.setattr(kit, "uses_api_key", True, raising=False)
    return kit


def kit_connection(workspace, label="HR Kit", *, shared=True, users=()):
    connection = Connection.objects.create(
        workspace=workspace,
        integration="kit",
        kind=Connection.Kind.API_KEY,
        label=label,
        access_token="key-not-shown",
        shared_with_all=shared,
    )
    connection.allowed_users.set(users)
    return connection


def document(name="Payroll", label="HR Kit", text=SECRET_OUTPUT):
    return {
        "format": "toolstack.recipe/1",
        "name": name,
        "trigger": {"app": "manual"},
        "steps": [
            {
                "key": "read",
                "app": "kit",
                "action": "echo",
                "connection": label,
                "config": {"text": text},
            }
        ],
    }


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# ------------------------------------------------------------- 1. sharing is enforced


def test_publish_requires_the_publisher_may_use_every_connection(
    workspace, keyed_kit, admin_user, member_user
):
    restricted = kit_connection(workspace, shared=False)
    member = logged_in(member_user)
    response = member.post(
        "/recipes/import/", {"text": json.dumps(document()), "publish": "1"}, follow=True
    )
    recipe = Recipe.objects.get(name="Payroll")
    assert recipe.owner == member_user and recipe.current_version is None
    text = response.content.decode()
    assert "HR Kit" in text and "not shared with you" in text
    response = member.post(f"/recipes/{recipe.pk}/publish/", follow=True)
    assert "not shared with you" in response.content.decode()
    assert not RecipeVersion.objects.filter(recipe=recipe).exists()

    restricted.allowed_users.add(member_user)
    member.post(f"/recipes/{recipe.pk}/publish/")
    version = RecipeVersion.objects.get(recipe=recipe)
    assert version.published_by == member_user
    assert list(version.connections.all()) == [restricted]


def test_an_admin_may_publish_with_any_connection(workspace, keyed_kit, admin_user):
    kit_connection(workspace, shared=False)
    recipe, problems = import_recipe(workspace, document(), user=admin_user, publish=True)
    assert problems == []
    recipe.refresh_from_db()
    assert recipe.current_version.published_by == admin_user


def test_a_connection_unshared_after_publishing_stops_the_recipe(workspace, keyed_kit, member_user):
    restricted = kit_connection(workspace, shared=False, users=[member_user])
    recipe, problems = import_recipe(workspace, document(), user=member_user, publish=True)
    assert problems == []
    restricted.allowed_users.clear()
    run = start_run(recipe, Run.Source.MANUAL, {})
    assert execute(run.id) == Run.Status.FAILED
    run.refresh_from_db()
    assert "HR Kit" in run.error and "no longer" in run.error
    assert keyed_kit.calls == []  # the step was never called
    step = run.steps.get()
    assert step.status == "failed" and "HR Kit" in step.error
    recipe.refresh_from_db()
    assert recipe.state == Recipe.State.PAUSED
    assert "HR Kit" in recipe.paused_reason and member_user.email in recipe.paused_reason


def test_a_publisher_who_left_the_workspace_stops_the_recipe(workspace, keyed_kit, member_user):
    kit_connection(workspace, shared=False, users=[member_user])
    recipe, _ = import_recipe(workspace, document(), user=member_user, publish=True)
    Membership.objects.filter(user=member_user).delete()
    run = start_run(recipe, Run.Source.MANUAL, {})
    assert execute(run.id) == Run.Status.FAILED
    recipe.refresh_from_db()
    assert recipe.state == Recipe.State.PAUSED


def test_run_pages_show_step_data_only_to_people_who_may_see_the_recipe(
    workspace, keyed_kit, admin_user, member_user
):
    restricted = kit_connection(workspace, shared=False, users=[member_user])
    recipe, _ = import_recipe(workspace, document(), user=admin_user, publish=True)
    run = start_run(recipe, Run.Source.MANUAL, {"who": "trigger-secret-99"})
    assert execute(run.id) == Run.Status.SUCCEEDED
    outsider_member = make_user("nia@acme.test", workspace, Membership.Role.MEMBER)

    for viewer in (admin_user, member_user):
        page = logged_in(viewer).get(f"/runs/{run.pk}/").content.decode()
        assert SECRET_OUTPUT in page and "trigger-secret-99" in page
        assert f"#{run.pk}" in logged_in(viewer).get("/runs/").content.decode()

    blocked = logged_in(outsider_member)
    response = blocked.get(f"/runs/{run.pk}/")
    page = response.content.decode()
    assert response.status_code == 200
    assert SECRET_OUTPUT not in page and "trigger-secret-99" not in page
    assert "not shared with you" in page
    assert f"/runs/{run.pk}/" not in blocked.get("/runs/").content.decode()
    assert f"/runs/{run.pk}/" not in blocked.get(f"/recipes/{recipe.pk}/").content.decode()
    assert f"/runs/{run.pk}/" not in blocked.get("/recipes/").content.decode()
    assert blocked.post(f"/runs/{run.pk}/replay/").status_code == 403

    # Sharing it with them (or with everyone) shows them the data.
    restricted.shared_with_all = True
    restricted.save()
    assert SECRET_OUTPUT in blocked.get(f"/runs/{run.pk}/").content.decode()


def test_the_owner_sees_their_recipes_runs(workspace, keyed_kit, admin_user, member_user):
    connection = kit_connection(workspace, shared=False, users=[member_user])
    recipe, _ = import_recipe(workspace, document(), user=member_user, publish=True)
    run = start_run(recipe, Run.Source.MANUAL, {})
    execute(run.id)
    connection.allowed_users.clear()
    assert SECRET_OUTPUT in logged_in(member_user).get(f"/runs/{run.pk}/").content.decode()


# ------------------------------------------------------------- 2. import never overwrites


@pytest.fixture
def admins_recipe(workspace, kit, admin_user):
    recipe, _ = import_recipe(
        workspace, document(label=None, text="admin's"), user=admin_user, publish=True
    )
    recipe.refresh_from_db()
    return recipe


def test_a_member_import_does_not_touch_an_admins_recipe(admins_recipe, member_user):
    response = logged_in(member_user).post(
        "/recipes/import/",
        {"text": json.dumps(document(label=None, text="member's")), "publish": "1"},
    )
    copy = Recipe.objects.get(name="Payroll (2)")
    assert response.status_code == 302 and response.url == f"/recipes/{copy.pk}/"
    assert copy.owner == member_user and copy.current_version.published_by == member_user
    admins_recipe.refresh_from_db()
    assert admins_recipe.draft["steps"][0]["config"]["text"] == "admin's"
    assert admins_recipe.versions.count() == 1


def test_a_forged_replace_from_a_member_still_creates_a_new_recipe(admins_recipe, member_user):
    logged_in(member_user).post(
        "/recipes/import/",
        {"text": json.dumps(document(label=None, text="member's")), "replace": "1"},
    )
    admins_recipe.refresh_from_db()
    assert admins_recipe.draft["steps"][0]["config"]["text"] == "admin's"
    assert Recipe.objects.filter(name="Payroll (2)").exists()


def test_replacing_ones_own_recipe_is_an_explicit_choice(admins_recipe, admin_user):
    admin = logged_in(admin_user)
    text = json.dumps(document(label=None, text="new text"))
    asked = admin.post("/recipes/import/", {"text": text})
    assert asked.status_code == 200
    assert "Replace the draft of \u2018Payroll\u2019?" in asked.content.decode()
    admins_recipe.refresh_from_db()
    assert admins_recipe.draft["steps"][0]["config"]["text"] == "admin's"
    assert Recipe.objects.count() == 1

    admin.post("/recipes/import/", {"text": text, "replace": "0"})
    assert Recipe.objects.get(name="Payroll (2)").draft["name"] == "Payroll (2)"
    admin.post("/recipes/import/", {"text": text, "replace": "1"})
    admins_recipe.refresh_from_db()
    assert admins_recipe.draft["steps"][0]["config"]["text"] == "new text"
    assert Recipe.objects.count() == 2


def test_command_line_import_replaces_only_with_replace(admins_recipe, tmp_path, capsys):
    path = tmp_path / "payroll.json"
    path.write_text(json.dumps(document(label=None, text="from the file")))
    call_command("recipes", "import", str(path))
    assert "Payroll (2)" in capsys.readouterr().out
    admins_recipe.refresh_from_db()
    assert admins_recipe.draft["steps"][0]["config"]["text"] == "admin's"
    call_command("recipes", "import", str(path), "--replace")
    admins_recipe.refresh_from_db()
    assert admins_recipe.draft["steps"][0]["config"]["text"] == "from the file"
    assert Recipe.objects.count() == 2


# ------------------------------------------------------------- 3. connection ids


def test_renaming_a_connection_changes_nothing_at_run_time(
    workspace, keyed_kit, admin_user, admin_client
):
    connection = kit_connection(workspace, label="Acme Kit")
    recipe, _ = import_recipe(workspace, document(label="Acme Kit"), user=admin_user, publish=True)
    recipe.refresh_from_db()
    assert recipe.current_version.steps[0]["connection_id"] == connection.pk
    assert recipe.draft["steps"][0]["connection_id"] == connection.pk
    response = admin_client.post(
        f"/connections/{connection.pk}/settings/",
        {"label": "Kit (renamed)", "shared_with_all": "on"},
    )
    assert response.status_code == 302
    run = start_run(recipe, Run.Source.MANUAL, {})
    assert execute(run.id) == Run.Status.SUCCEEDED
    recipe.refresh_from_db()
    assert recipe.state == Recipe.State.ACTIVE
    exported = export_recipe(recipe)
    assert exported["steps"][0]["connection"] == "Kit (renamed)"
    assert "connection_id" not in json.dumps(exported)
    page = admin_client.get(f"/recipes/{recipe.pk}/").content.decode()
    assert "Kit (renamed)" in page and "then publish again" not in page


def test_a_broken_connection_pauses_recipes_using_it_after_a_rename(
    workspace, keyed_kit, admin_user
):
    connection = kit_connection(workspace, label="Acme Kit")
    recipe, _ = import_recipe(workspace, document(label="Acme Kit"), user=admin_user, publish=True)
    Connection.objects.filter(pk=connection.pk).update(label="Renamed")
    connection.refresh_from_db()
    connection.mark_broken("revoked")
    recipe.refresh_from_db()
    assert recipe.state == Recipe.State.PAUSED and "Renamed" in recipe.paused_reason


def test_import_resolves_labels_and_ignores_ids_in_the_file(
    workspace, other_workspace, keyed_kit, admin_user
):
    theirs = kit_connection(other_workspace, label="Their Kit")
    ours = kit_connection(workspace, label="HR Kit")
    doc = document()
    doc["steps"][0]["connection_id"] = theirs.pk
    recipe, problems = import_recipe(workspace, doc, user=admin_user, publish=True)
    recipe.refresh_from_db()
    assert problems == []
    assert recipe.current_version.steps[0]["connection_id"] == ours.pk


def test_fill_connection_ids_migration_fills_stored_versions(workspace, keyed_kit, admin_user):
    from django.apps import apps

    connection = kit_connection(workspace, label="HR Kit")
    recipe = Recipe.objects.create(workspace=workspace, name="Old", draft=document(name="Old"))
    version = RecipeVersion.objects.create(recipe=recipe, number=1, document=document(name="Old"))
    migration = importlib.import_module("hub.recipes.migrations.0003_fill_connection_ids")
    migration.fill_connection_ids(apps, None)
    version = RecipeVersion.objects.get(pk=version.pk)
    recipe.refresh_from_db()
    assert version.steps[0]["connection_id"] == connection.pk
    assert recipe.draft["steps"][0]["connection_id"] == connection.pk
    assert list(version.connections.all()) == [connection]


def test_recipe_file_format_is_unchanged(workspace, keyed_kit, admin_user):
    kit_connection(workspace, label="HR Kit")
    recipe, _ = import_recipe(workspace, document(), user=admin_user, publish=True)
    publish_recipe(Recipe.objects.get(pk=recipe.pk), user=admin_user)
    exported = export_recipe(Recipe.objects.get(pk=recipe.pk))
    assert exported == {
        "format": "toolstack.recipe/1",
        "name": "Payroll",
        "description": "",
        "trigger": {"app": "manual"},
        "steps": [
            {
                "key": "read",
                "app": "kit",
                "action": "echo",
                "connection": "HR Kit",
                "config": {"text": SECRET_OUTPUT},
            }
        ],
    }
    assert AuditEvent.objects.filter(action="recipe.published").count() == 2
