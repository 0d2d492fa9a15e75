"""The time the hub adds to each AI call, excluding the provider: figures, not assertions.

    [DATABASE_URL=postgres://…/hub_bench_llm] python bench/llm.py [--calls 200]
        [--month-calls 100000]  (PostgreSQL: the month already holds that many calls)

For ``llm.ask`` against the OpenAI fake, in-process, with a workspace budget set (so the
gate and the thresholds do their real work):

1. Seam only: the budget gate before the call plus recording after it (run facts, prompt
   version, price lookup, the LLMCall row, the threshold check), per call.
2. Whole step: each ``llm.ask`` run through the executor, minus the time spent inside the
   provider's ``complete`` (the SDK, HTTP and the fake), per call. This is everything the
   hub does for an AI step: the run's rows, the lease, rendering, the seam above.

The database is migrated and a "Bench LLM" workspace is created (and its rows deleted first):
point it at a scratch database. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
os.environ.setdefault("HUB_VAR_DIR", str(ROOT / "var" / "bench-llm"))


def figures(label: str, samples: list[float]) -> None:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[int(len(ms) * 0.95) - 1]
    print(
        f"{label}: mean {statistics.mean(ms):.2f} ms · p50 {statistics.median(ms):.2f} ms · "
        f"p95 {p95:.2f} ms  ({len(ms)} calls)"
    )


def prefill(workspace, count: int) -> None:
    """``count`` priced calls earlier this month, and the month's totals as recording them
    one by one would have left them."""
    from django.db import connection
    from django.utils import timezone

    from hub.llm import months
    from hub.llm.models import LLMCall

    month = months.current(workspace)[0]
    assert LLMCall._meta.db_table == "llm_llmcall"
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO llm_llmcall (workspace_id, step_key, provider, model_requested,"
            " model_answered, operation, purpose, prompt_version, input_uncached, cache_read,"
            " cache_write, output, reasoning, latency_ms, finish_reason, status, error, cost,"
            " evaluation, created_at)"
            " SELECT %s, '', 'openai', 'gpt-4o-mini', 'gpt-4o-mini', 'ask', 'answer', '',"
            " 120, 0, 0, 30, 0, 300, 'stop', 'ok', '', 0.00003600, false, %s"
            " FROM generate_series(1, %s)",
            [workspace.id, timezone.now(), count],
        )
    try:
        from hub.llm import spend
    except ImportError:  # before the running totals: the gate sums the calls
        return
    spend.rebuild(workspace, month)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument(
        "--month-calls",
        type=int,
        default=0,
        help="calls already recorded this month before measuring (one INSERT … SELECT)",
    )
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from hub.accounts.models import Workspace
    from hub.engine.executor import execute
    from hub.engine.models import Run
    from hub.engine.runs import start_run
    from hub.llm.budgets import save_budget
    from hub.llm.models import LLMCall
    from integrations.llm import hooks
    from integrations.llm.providers.openai_chat import OpenAIIntegration
    from integrations.llm.usage import Usage
    from tests.conftest import make_recipe
    from tests.llm_support import EMAIL, llm_step, provider_connection, start_fake

    Workspace.objects.filter(name="Bench LLM").delete()
    workspace = Workspace.objects.create(name="Bench LLM")
    save_budget(workspace, Decimal(1000))
    fake = start_fake("openai")
    settings.OPENAI_BASE_URL = fake.base_url
    provider_connection(workspace, "openai", fake)
    recipe = make_recipe(workspace, [llm_step("openai", "ask", instructions="Answer briefly.")])
    if args.month_calls:
        prefill(workspace, args.month_calls)
    print(
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; database "
        f"{settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}"
    )

    # 1. The seam alone.
    info = hooks.CallInfo(
        workspace_id=workspace.id, provider="openai", model="gpt-4o-mini", operation="ask"
    )
    outcome = hooks.CallOutcome(
        status="ok",
        usage=Usage(120, 0, 0, 30),
        latency_ms=300,
        model_answered="gpt-4o-mini-2024-07-18",
        finish_reason="stop",
    )
    seam = []
    for _ in range(args.calls):
        started = time.perf_counter()
        hooks.gate_for(info)
        hooks.finished(info, outcome)
        seam.append(time.perf_counter() - started)
    figures("seam (budget gate + record + price)", seam)

    # 2. The whole step, minus the provider.
    inside: list[float] = []
    original = OpenAIIntegration.complete

    def timed(self, client, prompt):
        started = time.perf_counter()
        try:
            return original(self, client, prompt)
        finally:
            inside.append(time.perf_counter() - started)

    OpenAIIntegration.complete = timed
    execute(start_run(recipe, Run.Source.MANUAL, {"body": EMAIL}).id)  # warm the client
    inside.clear()
    whole = []
    for _ in range(args.calls):
        run = start_run(recipe, Run.Source.MANUAL, {"body": EMAIL})
        started = time.perf_counter()
        assert execute(run.id) == "succeeded"
        whole.append(time.perf_counter() - started)
    OpenAIIntegration.complete = original
    figures("provider (SDK + HTTP + fake)", inside)
    figures(
        "whole llm.ask step minus provider", [w - p for w, p in zip(whole, inside, strict=True)]
    )
    print(f"calls recorded: {LLMCall.objects.filter(workspace=workspace).count()}")
    fake.stop()
    Workspace.objects.filter(pk=workspace.pk).delete()


if __name__ == "__main__":
    main()
