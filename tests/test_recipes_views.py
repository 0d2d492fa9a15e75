"""The recipe and run pages: list, run now, publish/pause, import, run page, cancel, replay,
retention, and workspace scoping."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from hub.engine.executor import execute
from hub.engine.models import RetentionPolicy, Run
from hub.engine.runs import start_run
from hub.recipes.models import Recipe
from tests.conftest import make_recipe


@pytest.fixture
def recipe(workspace, kit, admin_user):
    r = make_recipe(
        workspace,
        [
            {
                "key": "say",
                "app": "kit",
                "action": "echo",
                "config": {"text": "Hi {{ trigger.name }}"},
            }
        ],
        trigger={"app": "webhook", "event": "catch"},
        name="Greeter",
    )
    return r


def test_recipe_list_and_detail(member_client, recipe):
    page = member_client.get("/recipes/")
    assert page.status_code == 200 and b"Greeter" in page.content and b"Run now" in page.content
    detail = member_client.get(f"/recipes/{recipe.pk}/")
    assert detail.status_code == 200
    assert b"say" in detail.content
    # Members who do not own it do not see the webhook secret.
    assert recipe.webhook_secret.encode() not in detail.content


def test_admin_sees_webhook_url(admin_client, recipe):
    detail = admin_client.get(f"/recipes/{recipe.pk}/")
    assert recipe.webhook_secret.encode() in detail.content


def test_run_now_with_test_data_then_run_page(member_client, recipe):
    response = member_client.post(f"/recipes/{recipe.pk}/run/", {"data": '{"name": "Ada"}'})
    run = Run.objects.get()
    assert response.status_code == 302 and response.url == f"/runs/{run.pk}/"
    assert run.trigger_data == {"name": "Ada"}
    execute(run.id)
    page = member_client.get(f"/runs/{run.pk}/")
    assert page.status_code == 200
    assert b"Hi Ada" in page.content and b"attempt" in page.content
    listing = member_client.get("/runs/?status=succeeded")
    assert f"#{run.pk}".encode() in listing.content
    assert f"#{run.pk}".encode() not in member_client.get("/runs/?status=failed").content


def test_run_now_rejects_bad_json(member_client, recipe):
    response = member_client.post(f"/recipes/{recipe.pk}/run/", {"data": "{bad"}, follow=True)
    assert b"not valid JSON" in response.content
    assert Run.objects.count() == 0


def test_pause_and_publish_need_owner_or_admin(client, member_user, admin_user, recipe):
    member_client, admin_client = client, Client()
    member_client.force_login(member_user)
    admin_client.force_login(admin_user)
    assert member_client.post(f"/recipes/{recipe.pk}/pause/", {"paused": "1"}).status_code == 403
    admin_client.post(f"/recipes/{recipe.pk}/pause/", {"paused": "1"})
    recipe.refresh_from_db()
    assert recipe.state == Recipe.State.PAUSED
    admin_client.post(f"/recipes/{recipe.pk}/pause/", {"paused": "0"})
    recipe.refresh_from_db()
    assert recipe.state == Recipe.State.ACTIVE
    recipe.draft["steps"][0]["config"]["text"] = "changed"
    recipe.save()
    admin_client.post(f"/recipes/{recipe.pk}/publish/")
    recipe.refresh_from_db()
    assert recipe.current_version.number == 2


def test_cancel_and_replay_buttons(member_client, workspace, kit):
    kit.failures["call"] = 1
    r = make_recipe(
        workspace,
        [{"key": "call", "app": "kit", "action": "flaky", "config": {"permanent": True}}],
        name="Flaky",
    )
    run = start_run(r, Run.Source.MANUAL, {})
    queued = start_run(r, Run.Source.MANUAL, {})
    execute(run.id)
    page = member_client.get(f"/runs/{run.pk}/")
    assert b"Replay from the failed step" in page.content
    response = member_client.post(f"/runs/{run.pk}/replay/")
    new = Run.objects.get(replay_of=run)
    assert response.url == f"/runs/{new.pk}/"
    member_client.post(f"/runs/{queued.pk}/cancel/")
    queued.refresh_from_db()
    assert queued.status == "cancelled"


def test_import_page(member_client, workspace, kit):
    document = {
        "format": "toolstack.recipe/1",
        "name": "Imported",
        "steps": [{"key": "a", "app": "kit", "action": "need", "config": {}}],
    }
    response = member_client.post("/recipes/import/", {"text": json.dumps(document)})
    assert response.status_code == 400 and b"required" in response.content
    document["steps"][0]["config"] = {"text": "x"}
    response = member_client.post(
        "/recipes/import/", {"text": json.dumps(document), "publish": "1"}
    )
    assert response.status_code == 302
    assert Recipe.objects.get(name="Imported").state == Recipe.State.ACTIVE


def test_another_workspaces_recipe_and_run_are_404(client, outsider, recipe):
    run = start_run(recipe, Run.Source.MANUAL, {})
    client.force_login(outsider)
    assert client.get(f"/recipes/{recipe.pk}/").status_code == 404
    assert client.post(f"/recipes/{recipe.pk}/run/").status_code == 404
    assert client.get(f"/runs/{run.pk}/").status_code == 404
    assert client.post(f"/runs/{run.pk}/cancel/").status_code == 404
    assert b"Greeter" not in client.get("/recipes/").content


def test_retention_is_set_by_admins_and_prunes(client, member_user, admin_user, workspace, recipe):
    member_client, admin_client = client, Client()
    member_client.force_login(member_user)
    admin_client.force_login(admin_user)
    from datetime import timedelta

    from django.utils import timezone

    from hub.engine.sweeper import prune

    assert member_client.post("/runs/retention/", {"days": "3"}).status_code == 403
    admin_client.post("/runs/retention/", {"days": "3"})
    assert RetentionPolicy.objects.get(workspace=workspace).days == 3
    old = start_run(recipe, Run.Source.MANUAL, {})
    execute(old.id)
    four_days_ago = timezone.now() - timedelta(days=4)
    Run.objects.filter(id=old.id).update(created_at=four_days_ago, finished_at=four_days_ago)
    fresh = start_run(recipe, Run.Source.MANUAL, {})
    execute(fresh.id)
    assert prune() == 1
    assert list(Run.objects.values_list("id", flat=True)) == [fresh.id]
