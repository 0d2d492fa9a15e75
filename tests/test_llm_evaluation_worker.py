"""The "Run evaluations" button through the real broker and a real worker process: the
page's request only records the evaluation; another process runs the cases and stores the
results."""

from __future__ import annotations

import time

import pytest
from django.db import transaction

from hub.llm.models import EvalCase, EvalRun, LLMCall
from tests.conftest import make_recipe
from tests.llm_support import EMAIL, FIELDS, llm_step, provider_connection, start_fake


@pytest.fixture
def fake(settings):
    fake = start_fake("openai")
    settings.OPENAI_BASE_URL = fake.base_url
    yield fake
    fake.stop()


@pytest.fixture
def worker_env(fake):
    return {"OPENAI_BASE_URL": fake.base_url}


@pytest.mark.django_db(transaction=True)
def test_a_worker_runs_the_evaluation_the_page_recorded(
    workspace, admin_user, admin_client, fake, celery_worker_process
):
    provider_connection(workspace, "openai", fake)
    recipe = make_recipe(workspace, [llm_step("openai", "extract", key="extract", fields=FIELDS)])
    recipe.owner = admin_user
    recipe.save()
    EvalCase.objects.create(
        recipe=recipe,
        name="Board report",
        trigger_data={"body": EMAIL},
        checks=[{"step": "extract", "field": "due_date", "check": "is_date"}],
    )
    with transaction.atomic():  # the page's request: the message goes out on commit
        admin_client.post(f"/recipes/{recipe.pk}/tests/run/", {"kind": "evaluate"})
    evaluation = EvalRun.objects.get()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        evaluation.refresh_from_db()
        if evaluation.finished:
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"The worker never ran the evaluation. Its log:\n{celery_worker_process.log()}")
    assert evaluation.status == "done", evaluation.error
    assert evaluation.results["draft"]["passed"] == 1
    assert LLMCall.objects.filter(evaluation=True).count() == 1
