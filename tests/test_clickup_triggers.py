"""ClickUp's instant triggers: a webhook registered on publish, removed on pause, registered
again when ClickUp reports it unhealthy; signed deliveries become runs whose data is the task
fetched as the run starts; and the polling fallback for hubs ClickUp cannot reach."""

from __future__ import annotations

import time

import pytest
from django.db import connection as db

from hub.connections.models import AppSubscription, Connection
from hub.engine import app_events, subscriptions
from hub.engine.executor import execute
from hub.engine.models import DedupeKey, Run
from hub.recipes.services import delete_recipe, publish_recipe, set_paused
from integrations import registry
from integrations.base import Context, PollRequest
from tests.conftest import make_recipe
from tests.fakes.clickup import FakeClickUp


@pytest.fixture
def clickup(settings):
    with FakeClickUp() as fake:
        settings.CLICKUP_API_URL = fake.base_url
        settings.HUB_BASE_URL = "https://hub.acme.test"
        fake.space_id = fake.add_space("Operations")
        fake.list_id = fake.add_list("Support", space_id=fake.space_id)
        fake.other_list = fake.add_list("Sales", space_id=fake.space_id)
        fake.grace = fake.add_member("grace@acme.test", "Grace Hopper")
        yield fake


@pytest.fixture
def connection(workspace, clickup):
    conn = Connection(workspace=workspace, integration="clickup", label="Team ClickUp")
    conn.set_tokens(clickup.issue_token(), None, None)
    conn.save()
    return conn


def recipe_on(workspace, clickup, event="task_updated", name="Done tasks", **config):
    config = {"workspace": clickup.team_id, "list": clickup.list_id, **config}
    trigger = {"app": "clickup", "event": event, "connection": "Team ClickUp", "config": config}
    step = {
        "key": "note",
        "app": "builtin",
        "action": "formatter",
        "config": {
            "operation": "text_upper",
            "input": "{{ trigger.name }} is {{ trigger.status }}",
        },
    }
    return make_recipe(workspace, [step], trigger=trigger, name=name)


def publish(capture, workspace, clickup, **kwargs):
    with capture(execute=True):
        return recipe_on(workspace, clickup, **kwargs)


def status_change(clickup, before="in progress", after="complete", item_id=None):
    return [
        {
            "id": item_id or str(time.time_ns()),
            "type": 1,
            "date": str(int(time.time() * 1000)),
            "field": "status",
            "user": dict(clickup.user),
            "before": {"status": before, "type": "custom"},
            "after": {"status": after, "type": "closed"},
        }
    ]


def deliver(client, subscription, clickup, event, task_id, history=None, tamper=False):
    body, headers = clickup.webhook_delivery(subscription.external_id, event, task_id, history)
    if tamper:
        body = body.replace(b'"field"', b'"fie1d"')
    return client.post(
        f"/apps/clickup/webhooks/{subscription.token}/",
        data=body,
        content_type="application/json",
        headers=headers,
    )


def test_publish_registers_a_webhook_scoped_to_the_list(
    workspace, clickup, connection, django_capture_on_commit_callbacks
):
    recipe = publish(django_capture_on_commit_callbacks, workspace, clickup)
    [call] = clickup.calls("webhook.create")
    assert call.path == f"/api/v2/team/{clickup.team_id}/webhook"
    assert call.body["events"] == ["taskCreated", "taskUpdated", "taskStatusUpdated"]
    assert str(call.body["list_id"]) == clickup.list_id and "space_id" not in call.body
    subscription = AppSubscription.objects.get(recipe=recipe)
    hook = clickup.webhooks[subscription.external_id]
    assert hook["endpoint"] == f"https://hub.acme.test/apps/clickup/webhooks/{subscription.token}/"
    assert subscription.secret == hook["secret"]
    with db.cursor() as cursor:
        cursor.execute("SELECT secret FROM connections_appsubscription")
        [(stored,)] = cursor.fetchall()
    assert hook["secret"] not in stored


def test_a_space_or_the_whole_workspace_is_watched_when_no_list_is_given(
    workspace, clickup, connection, django_capture_on_commit_callbacks
):
    publish(django_capture_on_commit_callbacks, workspace, clickup, list="", space=clickup.space_id)
    publish(django_capture_on_commit_callbacks, workspace, clickup, list="", name="All")
    first, second = (c.body for c in clickup.calls("webhook.create"))
    assert str(first["space_id"]) == clickup.space_id and "list_id" not in first
    assert not {"space_id", "list_id", "folder_id"} & set(second)


def test_republish_keeps_the_webhook_and_other_settings_replace_it(
    workspace, clickup, connection, django_capture_on_commit_callbacks
):
    recipe = publish(django_capture_on_commit_callbacks, workspace, clickup)
    first = AppSubscription.objects.get(recipe=recipe).external_id
    with django_capture_on_commit_callbacks(execute=True):
        publish_recipe(recipe)
    assert AppSubscription.objects.get(recipe=recipe).external_id == first
    assert len(clickup.calls("webhook.create")) == 1
    recipe.refresh_from_db()
    recipe.draft["trigger"]["config"]["list"] = clickup.other_list
    recipe.save()
    with django_capture_on_commit_callbacks(execute=True):
        publish_recipe(recipe)
    second = AppSubscription.objects.get(recipe=recipe)
    assert second.external_id != first and first not in clickup.webhooks
    assert clickup.webhooks[second.external_id]["list_id"] == int(clickup.other_list)


def test_pause_deletes_the_webhook_and_resume_registers_it_again(
    workspace, clickup, connection, django_capture_on_commit_callbacks
):
    recipe = publish(django_capture_on_commit_callbacks, workspace, clickup)
    first = AppSubscription.objects.get(recipe=recipe).external_id
    with django_capture_on_commit_callbacks(execute=True):
        set_paused(recipe, True)
    assert clickup.webhooks == {} and not AppSubscription.objects.exists()
    assert [c.path for c in clickup.calls("webhook.delete")] == [f"/api/v2/webhook/{first}"]
    with django_capture_on_commit_callbacks(execute=True):
        set_paused(recipe, False)
    assert len(clickup.webhooks) == 1 and AppSubscription.objects.get(recipe=recipe).external_id


def test_deleting_the_recipe_deletes_its_webhook(
    workspace, clickup, connection, django_capture_on_commit_callbacks
):
    recipe = publish(django_capture_on_commit_callbacks, workspace, clickup)
    with django_capture_on_commit_callbacks(execute=True):
        delete_recipe(recipe)
    assert clickup.webhooks == {} and len(clickup.calls("webhook.delete")) == 1


@pytest.mark.parametrize("health", ["failing", "suspended", "gone", "moved"])
def test_an_unhealthy_webhook_is_registered_again(
    health, workspace, clickup, connection, settings, django_capture_on_commit_callbacks
):
    recipe = publish(django_capture_on_commit_callbacks, workspace, clickup)
    old = AppSubscription.objects.get(recipe=recipe)
    if health == "gone":
        del clickup.webhooks[old.external_id]
    elif health == "moved":
        settings.HUB_BASE_URL = "https://hub.new-home.test"
    else:
        clickup.set_health(old.external_id, health)
    assert subscriptions.check_all() == 1
    new = AppSubscription.objects.get(recipe=recipe)
    assert new.external_id != old.external_id and old.external_id not in clickup.webhooks
    assert new.token == old.token and new.secret != old.secret
    assert clickup.webhooks[new.external_id]["health"]["status"] == "active"
    assert subscriptions.check_all() == 0  # healthy now: left alone


def test_a_failed_registration_is_retried_by_the_check(
    workspace, clickup, connection, django_capture_on_commit_callbacks
):
    # Publishing syncs once per save of the recipe that commits (import, then publish).
    clickup.fail_next("webhook.create", status=500, times=2)
    recipe = publish(django_capture_on_commit_callbacks, workspace, clickup)
    subscription = AppSubscription.objects.get(recipe=recipe)
    assert subscription.status == AppSubscription.Status.UNHEALTHY
    assert "trying again" in subscription.last_error
    assert subscriptions.check_all() == 1
    assert AppSubscription.objects.get(recipe=recipe).status == AppSubscription.Status.ACTIVE


def test_a_hub_without_a_public_address_registers_nothing_and_polls(
    workspace, clickup, connection, settings, django_capture_on_commit_callbacks
):
    settings.HUB_BASE_URL = "http://192.168.1.20:8000"
    publish(django_capture_on_commit_callbacks, workspace, clickup)
    assert not clickup.calls("webhook.create") and not AppSubscription.objects.exists()
    assert app_events.instant_ready("clickup") is False
    settings.HUB_BASE_URL = "https://hub.acme.test"
    assert app_events.instant_ready("clickup") is True


def test_a_signed_delivery_starts_a_run_with_the_task_fetched_when_it_starts(
    client, workspace, clickup, connection, django_capture_on_commit_callbacks
):
    recipe = publish(django_capture_on_commit_callbacks, workspace, clickup)
    subscription = AppSubscription.objects.get(recipe=recipe)
    task = clickup.add_task(clickup.list_id, "Refund Acme", assignees=[clickup.grace])
    history = status_change(clickup, item_id="2800000001")
    answer = deliver(client, subscription, clickup, "taskStatusUpdated", task["id"], history)
    assert answer.status_code == 200
    [run] = Run.objects.filter(recipe=recipe)
    assert answer.json() == {"ok": True, "run_id": run.pk}
    assert run.dedupe_key == f"trigger:{recipe.pk}:h2800000001"
    # The request called nothing: the task is read when the run starts.
    assert not clickup.calls("task.get")
    # Changed after the delivery: the run sees it as it is now.
    clickup.tasks[task["id"]]["name"] = "Refund Acme twice"
    clickup.tasks[task["id"]]["status"] = {"status": "complete", "type": "closed"}
    assert execute(run.id) == "succeeded"
    run.refresh_from_db()
    assert [c.path for c in clickup.calls("task.get")] == [f"/api/v2/task/{task['id']}"]
    data = run.trigger_data
    assert data["name"] == "Refund Acme twice" and data["status"] == "complete"
    assert data["list_id"] == clickup.list_id and data["list_name"] == "Support"
    assert [a["email"] for a in data["assignees"]] == ["grace@acme.test"]
    assert (data["event"], data["previous_status"]) == ("taskStatusUpdated", "in progress")
    assert run.steps.get().output["output"] == "REFUND ACME TWICE IS COMPLETE"


def test_the_same_change_delivered_again_is_one_run(
    client, workspace, clickup, connection, django_capture_on_commit_callbacks
):
    recipe = publish(django_capture_on_commit_callbacks, workspace, clickup)
    subscription = AppSubscription.objects.get(recipe=recipe)
    task = clickup.add_task(clickup.list_id, "Refund Acme")
    history = status_change(clickup, item_id="2800000002")
    # A retry, and the taskUpdated delivery of the same change.
    for event in ("taskStatusUpdated", "taskStatusUpdated", "taskUpdated"):
        assert deliver(client, subscription, clickup, event, task["id"], history).status_code == 200
    assert Run.objects.filter(recipe=recipe).count() == 1


def test_only_a_move_to_the_chosen_status_fires(
    client, workspace, clickup, connection, django_capture_on_commit_callbacks
):
    recipe = publish(
        django_capture_on_commit_callbacks, workspace, clickup, status_changed_to="Complete"
    )
    subscription = AppSubscription.objects.get(recipe=recipe)
    task = clickup.add_task(clickup.list_id, "Refund Acme")
    to_progress = status_change(clickup, before="to do", after="in progress")
    assert (
        deliver(client, subscription, clickup, "taskStatusUpdated", task["id"], to_progress).json()[
            "run_id"
        ]
        is None
    )
    renamed = [{"id": "77", "field": "name", "date": "1", "before": "a", "after": "b"}]
    assert (
        deliver(client, subscription, clickup, "taskUpdated", task["id"], renamed).json()["run_id"]
        is None
    )
    created = deliver(client, subscription, clickup, "taskCreated", task["id"])
    assert created.json()["run_id"] is None
    done = deliver(
        client, subscription, clickup, "taskStatusUpdated", task["id"], status_change(clickup)
    )
    assert done.json()["run_id"] is not None
    assert Run.objects.filter(recipe=recipe).count() == 1


def test_new_task_fires_on_task_created_only(
    client, workspace, clickup, connection, django_capture_on_commit_callbacks
):
    recipe = publish(
        django_capture_on_commit_callbacks, workspace, clickup, event="new_task", name="New"
    )
    subscription = AppSubscription.objects.get(recipe=recipe)
    task = clickup.add_task(clickup.list_id, "Call back")
    assert (
        deliver(client, subscription, clickup, "taskUpdated", task["id"]).json()["run_id"] is None
    )
    run_id = deliver(client, subscription, clickup, "taskCreated", task["id"]).json()["run_id"]
    assert execute(run_id) == "succeeded"
    assert Run.objects.get(pk=run_id).trigger_data["name"] == "Call back"


def test_a_tampered_delivery_or_an_unknown_address_is_refused_with_nothing_stored(
    client, workspace, clickup, connection, django_capture_on_commit_callbacks
):
    recipe = publish(django_capture_on_commit_callbacks, workspace, clickup)
    subscription = AppSubscription.objects.get(recipe=recipe)
    task = clickup.add_task(clickup.list_id, "Refund Acme")
    answer = deliver(client, subscription, clickup, "taskStatusUpdated", task["id"], tamper=True)
    assert answer.status_code == 401 and "X-Signature" in answer.json()["error"]
    subscription.token = "not-a-token"
    assert (
        deliver(client, subscription, clickup, "taskStatusUpdated", task["id"]).status_code == 404
    )
    assert not Run.objects.exists() and not DedupeKey.objects.exists()


def test_a_task_deleted_before_the_run_starts_fails_the_run_saying_so(
    client, workspace, clickup, connection, django_capture_on_commit_callbacks
):
    recipe = publish(django_capture_on_commit_callbacks, workspace, clickup)
    subscription = AppSubscription.objects.get(recipe=recipe)
    task = clickup.add_task(clickup.list_id, "Refund Acme")
    run_id = deliver(
        client, subscription, clickup, "taskStatusUpdated", task["id"], status_change(clickup)
    ).json()["run_id"]
    del clickup.tasks[task["id"]]
    assert execute(run_id) == "failed"
    run = Run.objects.get(pk=run_id)
    assert run.failed_step == "trigger" and "cannot find that list or task" in run.error


def test_clickup_outage_when_the_run_starts_waits_and_retries(
    client, workspace, clickup, connection, django_capture_on_commit_callbacks
):
    recipe = publish(django_capture_on_commit_callbacks, workspace, clickup)
    subscription = AppSubscription.objects.get(recipe=recipe)
    task = clickup.add_task(clickup.list_id, "Refund Acme")
    run_id = deliver(
        client, subscription, clickup, "taskStatusUpdated", task["id"], status_change(clickup)
    ).json()["run_id"]
    clickup.fail_next("task.get", status=503)
    assert execute(run_id) == "waiting"
    Run.objects.filter(pk=run_id).update(resume_at=None)
    assert execute(run_id) == "succeeded"


# -- the polling fallback


def context(clickup, connection, **config):
    config = {"workspace": clickup.team_id, "list": clickup.list_id, **config}
    return Context(
        workspace_id=connection.workspace_id,
        config=config,
        connection=connection,
        integration=registry.get("clickup"),
    )


def test_poll_seeds_without_firing_then_finds_new_tasks_oldest_first_in_bounded_batches(
    clickup, connection
):
    poll = registry.get("clickup").trigger("new_task").poll
    ctx = context(clickup, connection)
    clickup.add_task(clickup.list_id, "Old task")
    time.sleep(0.005)
    seeded = poll(ctx, PollRequest(mode="seed"))
    assert seeded.items == [] and seeded.cursor
    time.sleep(0.005)
    names = [f"Task {n}" for n in range(5)]
    for name in names:
        clickup.add_task(clickup.list_id, name)
        time.sleep(0.002)  # ClickUp's times are in milliseconds: one each, for a clear order
    clickup.add_task(clickup.other_list, "Elsewhere")
    first = poll(ctx, PollRequest(cursor=seeded.cursor, limit=3))
    assert [i.data["name"] for i in first.items] == names[:3] and first.more
    seen = frozenset(i.id for i in first.items)
    second = poll(ctx, PollRequest(cursor=first.cursor, limit=3, seen=seen))
    assert [i.data["name"] for i in second.items] == names[3:] and not second.more
    last = poll(ctx, PollRequest(cursor=second.cursor, seen=seen | {i.id for i in second.items}))
    assert last.items == []
    for call in clickup.calls("team.tasks"):
        assert call.query.get("list_ids[]") in (clickup.list_id, [clickup.list_id])


def test_poll_for_updates_and_test_mode(clickup, connection):
    poll = registry.get("clickup").trigger("task_updated").poll
    ctx = context(clickup, connection, status_changed_to="complete")
    task = clickup.add_task(clickup.list_id, "Refund Acme")
    seeded = poll(ctx, PollRequest(mode="seed"))
    time.sleep(0.005)
    clickup.tasks[task["id"]]["status"] = {"status": "complete", "type": "closed"}
    clickup.tasks[task["id"]]["date_updated"] = str(int(time.time() * 1000))
    found = poll(ctx, PollRequest(cursor=seeded.cursor))
    assert [i.data["status"] for i in found.items] == ["complete"]
    assert found.items[0].id == f"{task['id']}:{clickup.tasks[task['id']]['date_updated']}"
    tested = poll(ctx, PollRequest(cursor=seeded.cursor, mode="test"))
    assert tested.cursor == seeded.cursor and tested.items[0].data["name"] == "Refund Acme"


@pytest.mark.django_db(transaction=True)
def test_the_fake_delivers_over_http_to_the_registered_address(
    live_server, workspace, clickup, connection, settings, monkeypatch
):
    # The live server is on loopback; let the hub take it for a public address.
    monkeypatch.setattr(subscriptions, "hub_is_public", lambda: True)
    settings.HUB_BASE_URL = live_server.url
    recipe = recipe_on(workspace, clickup)
    subscription = AppSubscription.objects.get(recipe=recipe)
    task = clickup.add_task(clickup.list_id, "Refund Acme")
    statuses = clickup.deliver(
        subscription.external_id, "taskStatusUpdated", task["id"], status_change(clickup)
    )
    assert statuses == [200]
    [run] = Run.objects.filter(recipe=recipe)
    assert run.trigger_data["task_id"] == task["id"]
    clickup.set_health(subscription.external_id, "suspended")
    assert clickup.deliver(subscription.external_id, "taskUpdated", task["id"]) == []


def test_tasks_created_in_the_same_millisecond_are_each_fired_once_across_batches(
    clickup, connection
):
    poll = registry.get("clickup").trigger("new_task").poll
    ctx = context(clickup, connection)
    cursor = poll(ctx, PollRequest(mode="seed")).cursor
    tasks = [clickup.add_task(clickup.list_id, f"Same time {n}") for n in range(5)]
    for task in tasks:
        clickup.tasks[task["id"]]["date_created"] = str(int(time.time() * 1000) + 50)
    seen: set[str] = set()
    fired: list[str] = []
    for _poll in range(4):
        result = poll(ctx, PollRequest(cursor=cursor, limit=2, seen=frozenset(seen)))
        fired += [i.id for i in result.items]
        seen |= {i.id for i in result.items}
        cursor = result.cursor
    assert sorted(fired) == sorted(t["id"] for t in tasks)
