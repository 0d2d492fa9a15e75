"""Webhook intake: 202 with the run id, 404 for a wrong secret, 400/413 with reasons."""

from __future__ import annotations

import json

import pytest

from hub.engine.models import Run
from hub.recipes.services import set_paused
from tests.conftest import make_recipe


@pytest.fixture
def hook_recipe(workspace, kit):
    return make_recipe(
        workspace,
        [{"key": "a", "app": "kit", "action": "echo", "config": {"text": "{{ trigger.subject }}"}}],
        trigger={"app": "webhook", "event": "catch"},
    )


def url(recipe, secret=None):
    return f"/hooks/{recipe.public_id}/{secret or recipe.webhook_secret}"


def post(client, address, body, **extra):
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post(address, data=data, content_type="application/json", **extra)


def test_accepts_json_and_starts_a_run(client, hook_recipe):
    response = post(client, url(hook_recipe), {"subject": "Hello"})
    assert response.status_code == 202
    run = Run.objects.get(id=response.json()["run_id"])
    assert run.source == "webhook" and run.trigger_data == {"subject": "Hello"}
    assert run.status == "queued"


def test_wrong_secret_or_id_is_404(client, hook_recipe):
    assert post(client, url(hook_recipe, "wrong"), {}).status_code == 404
    assert post(client, f"/hooks/nope/{hook_recipe.webhook_secret}", {}).status_code == 404
    assert Run.objects.count() == 0


def test_malformed_json_is_400_with_reason(client, hook_recipe):
    response = post(client, url(hook_recipe), b"{not json")
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]


def test_body_over_cap_is_413(client, hook_recipe, settings):
    settings.ENGINE_WEBHOOK_MAX_BYTES = 100
    response = post(client, url(hook_recipe), {"x": "y" * 200})
    assert response.status_code == 413
    assert "larger than" in response.json()["error"]


def test_non_object_body_is_wrapped_and_empty_body_is_empty(client, hook_recipe):
    response = post(client, url(hook_recipe), [1, 2])
    assert Run.objects.get(id=response.json()["run_id"]).trigger_data == {"body": [1, 2]}
    response = post(client, url(hook_recipe), b"")
    assert Run.objects.get(id=response.json()["run_id"]).trigger_data == {}


def test_idempotency_key_starts_one_run(client, hook_recipe):
    first = post(client, url(hook_recipe), {"a": 1}, HTTP_IDEMPOTENCY_KEY="k1")
    second = post(client, url(hook_recipe), {"a": 1}, HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == 202 and second.status_code == 200
    assert second.json() == {"run_id": first.json()["run_id"], "duplicate": True}
    assert Run.objects.count() == 1


def test_paused_recipe_is_409_and_get_is_405(client, hook_recipe):
    assert client.get(url(hook_recipe)).status_code == 405
    set_paused(hook_recipe, True)
    assert post(client, url(hook_recipe), {}).status_code == 409


def test_manual_recipe_has_no_webhook(client, workspace, kit):
    recipe = make_recipe(workspace, [{"key": "a", "app": "kit", "action": "echo"}], name="M")
    assert post(client, url(recipe), {}).status_code == 404
