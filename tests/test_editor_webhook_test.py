"""Test trigger on a webhook waits for one call: the editor shows the address with Copy,
polls until the call arrives, and the call's data becomes the trigger's sample — before the
recipe is ever published. Only a call after the press counts, and only one."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from hub.engine.models import Run
from hub.recipes.models import Recipe, StepSample
from hub.recipes.webhook_test import WAIT
from tests.conftest import make_recipe

pytestmark = pytest.mark.django_db


def webhook_draft(client) -> Recipe:
    client.post(reverse("recipe_new"))
    recipe = Recipe.objects.latest("pk")
    url = reverse("editor_trigger", args=[recipe.pk])
    client.post(url, {"change": "app"})
    client.post(url, {"app": "webhook", "event": "catch"})
    recipe.refresh_from_db()
    assert recipe.draft["trigger"]["app"] == "webhook"
    return recipe


def address(recipe) -> str:
    return f"/hooks/{recipe.public_id}/{recipe.webhook_secret}"


def call(client, recipe, body):
    return client.post(address(recipe), data=json.dumps(body), content_type="application/json")


def press_test(client, recipe) -> tuple[str, str]:
    """Press Test trigger; returns the card's HTML and the URL its poller asks."""
    html = client.post(reverse("editor_test_trigger", args=[recipe.pk])).content.decode()
    polled = re.search(r'hx-get="([^"]+)" hx-trigger="every 2s"', html)
    assert polled, html
    return html, unescape(polled.group(1))


def test_a_draft_webhook_test_shows_the_address_and_takes_the_next_call_as_its_sample(
    admin_client, workspace
):
    recipe = webhook_draft(admin_client)
    # A draft's address answers nothing until somebody waits for a call to it.
    assert call(admin_client, recipe, {"name": "early"}).status_code == 404

    html, wait_url = press_test(admin_client, recipe)
    assert "Waiting for a call…" in html
    assert f'value="http://testserver{address(recipe)}"' in html
    assert 'data-copy="trigger-webhook-url"' in html and 'role="status"' in html
    assert admin_client.get(wait_url).status_code == 204  # nothing yet: nothing to swap

    response = call(admin_client, recipe, {"customer": {"name": "Ada"}, "total": 42})
    assert response.status_code == 202 and response.json()["test"] is True
    assert not Run.objects.filter(recipe=recipe).exists()  # a test call starts no run

    answer = admin_client.get(wait_url)
    assert answer.status_code == 200
    shown = answer.content.decode()
    assert "A call arrived. Its data:" in shown
    assert "Ada" in shown and "42" in shown and "hx-trigger" not in shown  # polling ends
    sample = StepSample.objects.get(recipe=recipe, step_key="trigger")
    assert sample.output == {"customer": {"name": "Ada"}, "total": 42}

    # One call only: the window closed with it, so the draft's address is unknown again.
    assert call(admin_client, recipe, {"name": "second"}).status_code == 404
    sample.refresh_from_db()
    assert sample.output["total"] == 42


def test_the_webhooks_data_is_offered_to_later_steps(admin_client, workspace):
    recipe = webhook_draft(admin_client)
    admin_client.post(reverse("editor_add_step", args=[recipe.pk]), {"position": 0})
    _html, wait_url = press_test(admin_client, recipe)
    call(admin_client, recipe, {"subject": "Quarterly report"})
    admin_client.get(wait_url)
    recipe.refresh_from_db()
    key = recipe.draft["steps"][0]["key"]
    listed = admin_client.get(reverse("editor_data", args=[recipe.pk]), {"before": key})
    assert "Quarterly report" in listed.content.decode()


def test_only_a_call_after_the_press_counts_and_a_live_recipe_still_runs(
    client, admin_client, workspace, kit
):
    recipe = make_recipe(
        workspace,
        [{"key": "a", "app": "kit", "action": "echo", "config": {"text": "{{ trigger.subject }}"}}],
        trigger={"app": "webhook", "event": "catch"},
    )
    assert call(client, recipe, {"subject": "before"}).status_code == 202

    _html, wait_url = press_test(admin_client, recipe)
    assert admin_client.get(wait_url).status_code == 204  # the earlier call does not count

    response = call(client, recipe, {"subject": "after"})
    assert response.status_code == 202 and "run_id" in response.json()  # it runs as usual
    assert Run.objects.filter(recipe=recipe).count() == 2
    assert "after" in admin_client.get(wait_url).content.decode()
    assert StepSample.objects.get(recipe=recipe, step_key="trigger").output == {"subject": "after"}


def test_after_the_window_the_card_says_no_call_yet_with_try_again(admin_client, workspace):
    recipe = webhook_draft(admin_client)
    press_test(admin_client, recipe)
    late = timezone.now() - WAIT - timedelta(seconds=1)
    Recipe.objects.filter(pk=recipe.pk).update(webhook_test_from=late)
    since = late.isoformat()
    html = admin_client.get(
        reverse("editor_test_trigger_wait", args=[recipe.pk]), {"since": since}
    ).content.decode()
    assert "No call yet." in html and "Try again" in html and "hx-trigger" not in html
    # A call after the window is not taken, and the unpublished draft starts nothing.
    assert call(admin_client, recipe, {"name": "late"}).status_code == 404
    assert not StepSample.objects.filter(recipe=recipe, step_key="trigger").exists()


def test_the_poll_needs_the_time_the_test_started(admin_client, workspace):
    recipe = webhook_draft(admin_client)
    response = admin_client.get(
        reverse("editor_test_trigger_wait", args=[recipe.pk]), {"since": "yesterday"}
    )
    assert response.status_code == 400
    assert b"ISO 8601" in response.content
