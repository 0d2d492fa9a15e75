"""The webhook intake's work per request is bounded: two statements (find the hook, insert
the run) and one broker message, and the run it inserts is the row the ORM would write."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hub.engine.models import Run
from hub.engine.runs import _INSERT_RUN
from hub.recipes.services import set_paused
from tests.conftest import make_recipe, post_hook


@pytest.mark.django_db(transaction=True)
def test_an_accepted_webhook_costs_two_statements_and_one_message(client, hook, sent):
    # Outside a test transaction, as gunicorn serves it: no savepoints, the message sent
    # as the insert commits.
    with CaptureQueriesContext(connection) as queries:
        response = post_hook(client, hook, b'{"x": "first"}')
    assert response.status_code == 202
    assert len(queries) == 2, [q["sql"] for q in queries]
    run = Run.objects.get(id=response.json()["run_id"])
    assert sent == [("hub.engine.tasks.execute_run", (run.id,))]
    assert run.trigger_data == {"x": "first"}
    assert run.recipe_id == hook.pk and run.version_id == hook.current_version_id
    assert run.workspace_id == hook.workspace_id and run.status == Run.Status.QUEUED


def test_refusals_cost_one_statement(client, hook, workspace, sent):
    manual = make_recipe(workspace, [], trigger={"app": "manual"}, name="By hand")
    for recipe, secret, status in [
        (hook, "wrong-secret-" + "x" * 20, 404),
        (manual, None, 404),  # no webhook trigger, no address
    ]:
        with CaptureQueriesContext(connection) as queries:
            assert post_hook(client, recipe, secret=secret).status_code == status
        assert len(queries) == 1
    set_paused(hook, True)
    with CaptureQueriesContext(connection) as queries:
        assert post_hook(client, hook).status_code == 409
    assert len(queries) == 1
    assert not Run.objects.exists() and sent == []


def test_the_run_insert_writes_what_the_orm_writes(hook, admin_user):
    now = timezone.now()
    values = {
        "workspace_id": hook.workspace_id,
        "recipe_id": hook.pk,
        "version_id": hook.current_version_id,
        "source": Run.Source.WEBHOOK,
        "trigger_data": {"nested": [1, "two", {"3": None}], "text": "한국어"},
        "created_by_id": admin_user.pk,
        "created_at": now,
        "enqueued_at": now,
        "deadline": now,
    }
    fast = _INSERT_RUN.insert({**values, "dedupe_key": "fast"})
    orm = Run.objects.create(**values, dedupe_key="orm")
    assert fast.pk != orm.pk
    columns = [
        f.attname for f in Run._meta.concrete_fields if f.attname not in ("id", "dedupe_key")
    ]
    stored = {r["id"]: r for r in Run.objects.filter(id__in=[fast.pk, orm.pk]).values()}
    assert {c: stored[fast.pk][c] for c in columns} == {c: stored[orm.pk][c] for c in columns}
    assert {c: getattr(fast, c) for c in columns} == {c: stored[fast.pk][c] for c in columns}


def test_the_run_insert_refuses_a_field_the_model_does_not_have(hook):
    with pytest.raises(TypeError, match="no field"):
        _INSERT_RUN.insert({"recipe_id": hook.pk, "colour": "red"})
    assert not Run.objects.exists()


def test_a_duplicate_idempotency_key_answers_with_the_first_run(client, hook, sent):
    first = post_hook(client, hook, json.dumps({"x": 1}).encode(), HTTP_IDEMPOTENCY_KEY="k1")
    again = post_hook(client, hook, json.dumps({"x": 2}).encode(), HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == 202 and again.status_code == 200
    assert again.json() == {"run_id": first.json()["run_id"], "duplicate": True}
    assert Run.objects.count() == 1


def test_the_run_insert_refuses_a_model_with_fields_only_save_fills():
    from hub.engine.compiled_sql import RowInsert
    from hub.recipes.models import Recipe  # created_at / updated_at are auto_now(_add)

    with pytest.raises(TypeError, match="cannot fill"):
        RowInsert(Recipe)
