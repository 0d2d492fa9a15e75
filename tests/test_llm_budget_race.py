"""Twenty runs against a nearly spent budget, on PostgreSQL with real worker processes: the
overspend is bounded by the calls already in flight when the limit is crossed (at most one
per worker process), every call that reached the provider is recorded, and the rest wait
"budget reached" without calling it."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from django.utils import timezone

from hub.engine.models import Run
from hub.engine.runs import start_run
from hub.llm import budgets
from hub.llm.models import Budget, LLMCall, ModelPrice
from tests.conftest import WorkerProcess, using_postgres  # noqa: F401  (read by skipif)
from tests.llm_support import EMAIL, llm_recipe, provider_connection, start_fake

RUNS = 20
CONCURRENCY = 4

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("not using_postgres()", reason="the race needs PostgreSQL"),
]


@pytest.fixture
def fake():
    fake = start_fake("openai")
    # Slow answers keep several calls in flight at once, as the race needs.
    fake.delay("chat.completions", 0.4)
    yield fake
    fake.stop()


def test_twenty_runs_overspend_by_at_most_the_calls_in_flight(
    workspace, fake, celery_queue, settings
):
    settings.OPENAI_BASE_URL = fake.base_url
    provider_connection(workspace, "openai", fake)
    recipe = llm_recipe(workspace, "openai", "ask")
    # A price that makes one call cost cents, so a budget in cents holds a few calls.
    ModelPrice.objects.create(
        provider="openai",
        model_pattern="gpt-4o-mini-2024-07-18",
        starts_on=timezone.localdate(),
        input_per_million=Decimal(500),
        output_per_million=Decimal(2000),
    )
    # One call's price, from a first run in this process.
    from hub.engine.executor import execute

    first = start_run(recipe, Run.Source.MANUAL, {"body": EMAIL})
    assert execute(first.id) == "succeeded"
    per_call = LLMCall.objects.get().cost
    assert per_call > 0
    # Room for about three more calls.
    limit = (per_call * Decimal("4.5")).quantize(Decimal("0.01"))
    Budget.objects.create(workspace=workspace, monthly_limit=limit)

    worker = WorkerProcess(
        celery_queue, concurrency=CONCURRENCY, extra_env={"OPENAI_BASE_URL": fake.base_url}
    ).start()
    try:
        runs = [start_run(recipe, Run.Source.MANUAL, {"body": EMAIL}) for _ in range(RUNS)]
        ids = [r.id for r in runs]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if not Run.objects.filter(id__in=ids, status__in=("queued", "running")).exists():
                break
            time.sleep(0.2)
        else:
            pytest.fail("The runs did not settle.\n" + worker.log()[-3000:])
    finally:
        worker.stop()

    state = budgets.state(Budget.objects.get())
    overspend = state["spent"] - limit
    succeeded = Run.objects.filter(id__in=ids, status="succeeded").count()
    waiting = Run.objects.filter(id__in=ids, status="waiting").count()
    calls = LLMCall.objects.exclude(run_id=first.id).count()
    print(
        f"\nbudget ${limit} · per call ${per_call} · {calls} calls reached the provider · "
        f"{succeeded} runs succeeded, {waiting} wait · overspend ${max(overspend, 0)} "
        f"= {max(overspend, 0) / per_call:.1f} calls (bound: {CONCURRENCY} in flight)"
    )
    assert succeeded + waiting == RUNS
    assert succeeded >= 3
    assert waiting >= RUNS - 4 - CONCURRENCY
    # Every call that reached the provider is recorded, once.
    assert calls == len(fake.calls("chat.completions")) - 1 == succeeded
    assert overspend <= per_call * CONCURRENCY
    assert state["reached"]
