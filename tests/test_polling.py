"""Polling triggers through the hub: publishing a Gmail recipe, the tick sending its polls, the
poll task firing one run per new email in the transaction that moves the cursor, and what a
republish, an outage and a revoked token do to it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from hub.connections.models import Connection
from hub.engine import polling
from hub.engine.models import DedupeKey, Run, TriggerState
from hub.recipes.models import Recipe
from hub.recipes.services import import_recipe, publish_recipe, set_paused
from tests.fakes.gmail import FakeGoogle


@pytest.fixture
def google(settings):
    with FakeGoogle() as fake:
        for key, value in fake.settings().items():
            setattr(settings, key, value)
        yield fake


@pytest.fixture
def mailbox(workspace, google):
    connection = Connection(workspace=workspace, integration="gmail", label="Sales Gmail")
    connection.set_tokens(google.issue_token(), None, None)
    connection.save()
    return connection


@pytest.fixture
def sent(monkeypatch):
    """The tasks the hub sends, by name, instead of a broker."""
    from celery import current_app

    messages = []
    monkeypatch.setattr(
        current_app, "send_task", lambda name, args=(), **kw: messages.append((name, args))
    )
    return messages


def gmail_recipe(workspace, config=None, *, include=False, name="Important mail"):
    trigger = {
        "app": "gmail",
        "event": "new_email",
        "connection": "Sales Gmail",
        "config": config if config is not None else {"query": "is:important"},
    }
    if include:
        trigger["include_most_recent"] = True
    document = {"format": "toolstack.recipe/1", "name": name, "trigger": trigger, "steps": []}
    recipe, problems = import_recipe(workspace, document, publish=True)
    assert not problems, problems
    recipe.refresh_from_db()
    return recipe


def poll(recipe) -> str:
    return polling.poll_trigger(TriggerState.objects.get(recipe=recipe).pk)


def important(fake, subject, **kwargs):
    return fake.deliver("boss@acme.test", subject=subject, labels=("INBOX", "IMPORTANT"), **kwargs)


def runs(recipe):
    return list(Run.objects.filter(recipe=recipe).order_by("id"))


def test_file_keeps_the_trigger_connection_and_config(workspace, mailbox, google):
    recipe = gmail_recipe(workspace)
    trigger = recipe.current_version.trigger
    assert trigger["connection_id"] == mailbox.pk
    assert trigger["config"] == {"query": "is:important"}
    assert list(recipe.current_version.connections.all()) == [mailbox]


def test_a_required_trigger_field_left_empty_is_a_located_problem(workspace, mailbox):
    from hub.recipes.format import RecipeFormatError

    document = {
        "format": "toolstack.recipe/1",
        "name": "Labelled",
        "trigger": {"app": "gmail", "event": "new_labeled_email", "connection": "Sales Gmail"},
        "steps": [],
    }
    with pytest.raises(RecipeFormatError) as error:
        import_recipe(workspace, document)
    [problem] = error.value.problems
    assert (problem.step, problem.field) == ("trigger", "label")


def test_seed_fires_nothing_old_then_each_new_email_fires_once(
    workspace, mailbox, google, sent, django_capture_on_commit_callbacks
):
    important(google, "Before publishing")
    recipe = gmail_recipe(workspace)
    state = TriggerState.objects.get(recipe=recipe)
    assert state.kind == "poll" and state.next_fire_at <= timezone.now()

    with django_capture_on_commit_callbacks(execute=True):
        assert polling.dispatch_due() == 1
    assert sent == [(polling.POLL_TRIGGER, (state.pk,))]
    assert polling.dispatch_due() == 0  # held by the poll lease until the poll is done

    assert poll(recipe) == "fired 0"
    first = important(google, "Quarterly plan")
    google.deliver("friend@acme.test", subject="Lunch?")
    assert poll(recipe) == "fired 1"
    assert poll(recipe) == "fired 0"
    [run] = runs(recipe)
    assert run.source == Run.Source.APP
    assert run.trigger_data["subject"] == "Quarterly plan"
    assert run.trigger_data["id"] == first["id"]
    assert run.dedupe_key == f"trigger:{recipe.pk}:{first['id']}"
    state.refresh_from_db()
    assert state.next_fire_at > timezone.now() + timedelta(seconds=50)


def test_include_most_recent_fires_the_newest_existing_email(workspace, mailbox, google):
    important(google, "Older")
    important(google, "Newest")
    recipe = gmail_recipe(workspace, include=True)
    assert poll(recipe) == "fired 1"
    assert [r.trigger_data["subject"] for r in runs(recipe)] == ["Newest"]
    important(google, "Next")
    poll(recipe)
    assert [r.trigger_data["subject"] for r in runs(recipe)] == ["Newest", "Next"]


def test_burst_of_500_is_500_runs_over_several_polls_oldest_first(
    workspace, mailbox, google, settings
):
    recipe = gmail_recipe(workspace, {"query": "subject:order"})
    poll(recipe)
    burst = google.burst(500)
    polls = 0
    while True:
        polls += 1
        poll(recipe)
        state = TriggerState.objects.get(recipe=recipe)
        if state.next_fire_at > timezone.now():
            break
        assert polls < 10
    assert polls == 5
    fired = [r.trigger_data["id"] for r in Run.objects.filter(recipe=recipe).order_by("id")]
    assert fired == [m["id"] for m in burst]
    assert DedupeKey.objects.filter(recipe=recipe).count() == 500
    assert len({r.dedupe_key for r in runs(recipe)}) == 500


def test_republish_with_the_same_trigger_keeps_the_cursor(workspace, mailbox, google):
    recipe = gmail_recipe(workspace)
    poll(recipe)
    important(google, "One")
    poll(recipe)
    cursor = TriggerState.objects.get(recipe=recipe).cursor
    important(google, "Arrived during the republish")
    draft = dict(recipe.draft, steps=[])
    Recipe.objects.filter(pk=recipe.pk).update(draft=draft)
    recipe.refresh_from_db()
    publish_recipe(recipe)
    state = TriggerState.objects.get(recipe=recipe)
    assert state.cursor == cursor and state.reset_at is None
    poll(recipe)
    assert [r.trigger_data["subject"] for r in runs(recipe)] == [
        "One",
        "Arrived during the republish",
    ]


def test_a_changed_trigger_starts_fresh_and_says_so(workspace, mailbox, google, admin_client):
    recipe = gmail_recipe(workspace)
    poll(recipe)
    important(google, "Under the old search")
    draft = dict(recipe.draft)
    draft["trigger"] = dict(draft["trigger"], config={"query": "from:boss@acme.test"})
    Recipe.objects.filter(pk=recipe.pk).update(draft=draft)
    recipe.refresh_from_db()
    publish_recipe(recipe)
    state = TriggerState.objects.get(recipe=recipe)
    assert state.cursor is None and state.reset_at is not None
    assert poll(recipe) == "fired 0"  # a fresh seed: the email before it is old
    assert poll(recipe) == "fired 0"
    page = admin_client.get(f"/recipes/{recipe.pk}/").content.decode()
    assert "started fresh" in page


def test_an_outage_backs_off_and_resumes_from_the_cursor(workspace, mailbox, google):
    recipe = gmail_recipe(workspace)
    poll(recipe)
    email = important(google, "During the outage")
    google.fail_next("history.list", status=503, times=2)
    before = timezone.now()
    assert poll(recipe) == "failed"
    state = TriggerState.objects.get(recipe=recipe)
    assert state.failures == 1 and "busy" in state.last_error
    first_wait = state.next_fire_at - before
    assert first_wait >= timedelta(seconds=29)
    assert poll(recipe) == "failed"
    state.refresh_from_db()
    assert state.failures == 2 and state.next_fire_at - before > first_wait * 0.99
    assert runs(recipe) == []
    assert poll(recipe) == "fired 1"
    state.refresh_from_db()
    assert state.failures == 0 and state.last_error == ""
    assert runs(recipe)[0].trigger_data["id"] == email["id"]


def test_a_failing_poll_shows_its_reason_on_the_recipe_page(
    workspace, mailbox, google, member_client
):
    recipe = gmail_recipe(workspace)
    poll(recipe)
    google.fail_next("history.list", status=503, times=3)
    for _ in range(3):
        poll(recipe)
    page = member_client.get(f"/recipes/{recipe.pk}/").content.decode()
    assert "Checking Gmail for new items failed 3 times" in page
    assert "Gmail is busy or limiting requests" in page


def test_a_revoked_token_breaks_the_connection_and_pauses_the_recipe(workspace, mailbox, google):
    recipe = gmail_recipe(workspace)
    poll(recipe)
    google.revoke_token(mailbox.access_token)
    important(google, "Unseen")
    poll(recipe)
    mailbox.refresh_from_db()
    recipe.refresh_from_db()
    assert mailbox.status == Connection.Status.NEEDS_RECONNECT
    assert recipe.state == Recipe.State.PAUSED
    assert TriggerState.objects.get(recipe=recipe).next_fire_at is None
    assert runs(recipe) == []


def test_pausing_stops_polls_and_resuming_goes_on_from_the_cursor(workspace, mailbox, google):
    recipe = gmail_recipe(workspace)
    poll(recipe)
    set_paused(recipe, True)
    assert TriggerState.objects.get(recipe=recipe).next_fire_at is None
    important(google, "While paused")
    assert poll(recipe) == "inactive"
    set_paused(recipe, False)
    state = TriggerState.objects.get(recipe=recipe)
    assert state.next_fire_at <= timezone.now()
    assert poll(recipe) == "fired 1"


def test_seen_ids_are_pruned_by_age_and_count(settings):
    settings.TRIGGER_SEEN_MAX = 3
    state = TriggerState(seen_ids=[["old", 0], ["a", 10**10]])
    kept = polling.remember(state, ["b", "c", "d"], now=10**10)
    assert [entry[0] for entry in kept] == ["b", "c", "d"]


def test_poll_interval_is_an_admin_setting_from_1_to_15_minutes(
    workspace, mailbox, google, admin_client, member_user
):
    from django.test import Client

    recipe = gmail_recipe(workspace)
    url = f"/recipes/{recipe.pk}/trigger/interval/"
    member = Client()
    member.force_login(member_user)
    assert member.post(url, {"minutes": "5"}).status_code == 403
    response = admin_client.post(url, {"minutes": "20"})
    assert response.status_code == 302
    assert TriggerState.objects.get(recipe=recipe).interval_minutes is None
    admin_client.post(url, {"minutes": "5"})
    assert TriggerState.objects.get(recipe=recipe).interval_minutes == 5
    poll(recipe)  # the seed: its first interval is drawn at random, to spread recipes out
    state = TriggerState.objects.get(recipe=recipe)
    assert timedelta(0) < state.next_fire_at - state.last_polled_at <= timedelta(minutes=5)
    poll(recipe)
    state = TriggerState.objects.get(recipe=recipe)
    assert state.next_fire_at - state.last_polled_at == timedelta(minutes=5)
