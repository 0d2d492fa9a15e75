"""Deleting a recipe (with its runs) and deleting a whole workspace."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hub.accounts.models import AuditEvent, User, Workspace
from hub.engine.executor import execute
from hub.engine.models import Run, StepRun
from hub.engine.runs import start_run
from hub.recipes.models import Recipe, RecipeVersion
from hub.recipes.services import publish_recipe
from tests.conftest import PASSWORD, make_recipe

STEPS = [{"key": "a", "app": "kit", "action": "echo", "config": {"text": "hi"}}]


def owned_recipe(workspace, owner, name="Mine", runs=3):
    recipe = make_recipe(workspace, STEPS, name=name)
    recipe.owner = owner
    recipe.draft["steps"][0]["config"]["text"] = "v2"
    recipe.save()
    publish_recipe(recipe)  # two versions, runs on both
    recipe.refresh_from_db()
    for _ in range(runs):
        execute(start_run(recipe, Run.Source.MANUAL, {}).id)
    return recipe


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_member_deletes_their_own_recipe_and_its_runs(workspace, kit, member_user):
    recipe = owned_recipe(workspace, member_user)
    client = logged_in(member_user)
    page = client.get(f"/recipes/{recipe.pk}/").content.decode()
    assert f"/recipes/{recipe.pk}/delete/" in page
    confirm = client.get(f"/recipes/{recipe.pk}/delete/")
    assert confirm.status_code == 200
    text = confirm.content.decode()
    assert "Mine" in text and "3 runs" in text
    response = client.post(f"/recipes/{recipe.pk}/delete/")
    assert response.status_code == 302 and response.url == "/recipes/"
    assert not Recipe.objects.filter(pk=recipe.pk).exists()
    assert Run.objects.count() == 0 and StepRun.objects.count() == 0
    assert RecipeVersion.objects.count() == 0
    event = AuditEvent.objects.get(action="recipe.deleted")
    assert event.actor == member_user and event.target == "Mine"
    assert event.details["runs"] == 3
    assert client.get(f"/recipes/{recipe.pk}/").status_code == 404


def test_members_delete_only_their_own_recipes_admins_any(workspace, kit, admin_user, member_user):
    admins = owned_recipe(workspace, admin_user, name="Admin's", runs=1)
    members = owned_recipe(workspace, member_user, name="Member's", runs=1)
    member = logged_in(member_user)
    assert member.get(f"/recipes/{admins.pk}/delete/").status_code == 403
    assert member.post(f"/recipes/{admins.pk}/delete/").status_code == 403
    page = member.get(f"/recipes/{admins.pk}/").content.decode()
    assert f"/recipes/{admins.pk}/delete/" not in page
    assert Recipe.objects.filter(pk=admins.pk).exists()
    logged_in(admin_user).post(f"/recipes/{members.pk}/delete/")
    assert list(Recipe.objects.values_list("name", flat=True)) == ["Admin's"]
    assert Run.objects.filter(recipe=admins).count() == 1


def test_a_recipe_with_a_step_in_progress_is_not_deleted(workspace, kit, admin_user):
    recipe = owned_recipe(workspace, admin_user, runs=0)
    run = start_run(recipe, Run.Source.MANUAL, {})
    Run.objects.filter(pk=run.pk).update(
        status=Run.Status.RUNNING,
        lease_owner="worker-1",
        lease_expires=timezone.now() + timedelta(minutes=2),
    )
    response = logged_in(admin_user).post(f"/recipes/{recipe.pk}/delete/", follow=True)
    assert "in progress" in response.content.decode()
    assert Recipe.objects.filter(pk=recipe.pk).exists()


def test_deleting_runs_is_done_in_batches(workspace, kit, admin_user, settings):
    recipe = owned_recipe(workspace, admin_user, runs=0)
    version = recipe.current_version
    now = timezone.now()
    Run.objects.bulk_create(
        Run(
            workspace=workspace,
            recipe=recipe,
            version=version,
            source="manual",
            dedupe_key=f"k{i}",
            status="succeeded",
            created_at=now,
        )
        for i in range(1200)
    )
    from hub.recipes.services import delete_recipe

    with CaptureQueriesContext(connection) as queries:
        delete_recipe(recipe, user=admin_user)
    assert Run.objects.count() == 0
    # Batches (three of 500, ~18 statements each, and the Home page's counts forgotten), not
    # one statement per run.
    assert len(queries) < 70


def test_deleting_a_workspace_deletes_its_recipes_versions_and_runs(workspace, kit, admin_user):
    owned_recipe(workspace, admin_user)
    other = Workspace.objects.create(name="Other")
    kept = owned_recipe(other, None, name="Kept", runs=1)
    workspace.delete()
    assert list(Recipe.objects.all()) == [kept]
    assert Run.objects.filter(recipe=kept).count() == 1
    assert RecipeVersion.objects.filter(recipe__workspace_id=workspace.pk).count() == 0


def test_deleting_a_workspace_in_the_django_admin(workspace, kit, admin_user):
    owned_recipe(workspace, admin_user)
    User.objects.create_superuser("root@hub.test", PASSWORD)
    client = Client()
    client.force_login(User.objects.get(email="root@hub.test"))
    url = f"/django-admin/accounts/workspace/{workspace.pk}/delete/"
    confirm = client.get(url)
    assert confirm.status_code == 200 and b"Are you sure" in confirm.content
    response = client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not Workspace.objects.filter(pk=workspace.pk).exists()
    assert Run.objects.count() == 0


def test_a_version_with_runs_cannot_be_deleted_on_its_own(workspace, kit, admin_user):
    from django.db.models import RestrictedError

    recipe = owned_recipe(workspace, admin_user, runs=1)
    with pytest.raises(RestrictedError):
        recipe.current_version.delete()
