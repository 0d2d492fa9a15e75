"""The executor, run directly (no broker): steps, data flow, errors, retries, waits, cancel,
replay, loops, paths, output caps."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from hub.engine import leases, step_attempt, step_record, timeouts
from hub.engine.executor import execute
from hub.engine.models import Run, StepRun
from hub.engine.runs import RunError, cancel, replay, start_run
from tests.conftest import make_recipe


@pytest.fixture
def sent(monkeypatch):
    """Messages handed to Celery: (run_id, countdown)."""
    from hub.celery import app
    from hub.engine import tasks

    calls = []

    def send_task(name, args=None, kwargs=None, **options):
        assert name == tasks.execute_run.name  # sent by name: the name is the task's
        calls.append((args[0], options.get("countdown")))

    monkeypatch.setattr(app, "send_task", send_task)
    return calls


def start(recipe, data=None, **kwargs):
    return start_run(recipe, Run.Source.MANUAL, data or {}, **kwargs)


def steps_of(run):
    return list(run.steps.order_by("id").values_list("key", "item", "attempt", "status"))


def test_steps_run_in_order_with_mapped_input(
    workspace, kit, sent, django_capture_on_commit_callbacks
):
    recipe = make_recipe(
        workspace,
        [
            {
                "key": "first",
                "app": "kit",
                "action": "echo",
                "config": {"text": "Hi {{ trigger.name }}"},
            },
            {
                "key": "second",
                "app": "kit",
                "action": "echo",
                "config": {"text": "{{ steps.first.text | upper }}", "value": "{{ trigger.tags }}"},
            },
        ],
    )
    with django_capture_on_commit_callbacks(execute=True):
        run = start(recipe, {"name": "Ada", "tags": ["a", "b"]})
    assert sent == [(run.id, None)]
    assert execute(run.id) == "succeeded"
    run.refresh_from_db()
    assert run.status == "succeeded" and run.finished_at and run.started_at
    second = run.steps.get(key="second")
    assert second.input == {"text": "HI ADA", "value": ["a", "b"]}
    assert second.output == second.input
    assert second.duration_ms is not None
    assert steps_of(run) == [("first", None, 1, "succeeded"), ("second", None, 1, "succeeded")]


def test_second_delivery_is_a_no_op(workspace, kit):
    recipe = make_recipe(workspace, [{"key": "a", "app": "kit", "action": "echo", "config": {}}])
    run = start(recipe)
    assert execute(run.id) == "succeeded"
    assert execute(run.id) == "already-finished"
    assert len(kit.calls) == 1


def test_run_held_by_a_live_lease_is_not_executed_again(workspace, kit, sent):
    recipe = make_recipe(workspace, [{"key": "a", "app": "kit", "action": "echo", "config": {}}])
    run = start(recipe)
    assert leases.claim(run.id, "other-worker")
    assert execute(run.id) == "held-elsewhere"
    assert kit.calls == []


def test_resume_after_crash_skips_done_steps_and_marks_interrupted(workspace, kit):
    recipe = make_recipe(
        workspace,
        [
            {"key": "a", "app": "kit", "action": "echo", "config": {"text": "1"}},
            {"key": "b", "app": "kit", "action": "echo", "config": {"text": "{{ steps.a.text }}2"}},
        ],
    )
    run = start(recipe)
    # A worker claimed it, finished step a, wrote b as running and died.
    assert leases.claim(run.id, "dead-worker")
    now = timezone.now()
    StepRun.objects.create(
        run=run,
        key="a",
        position=0,
        app="kit",
        action="echo",
        status="succeeded",
        input={"text": "1"},
        output={"text": "1"},
        started_at=now,
        finished_at=now,
    )
    StepRun.objects.create(
        run=run,
        key="b",
        position=1,
        app="kit",
        action="echo",
        status="running",
        input={"text": "12"},
        started_at=now,
    )
    Run.objects.filter(id=run.id).update(lease_expires=now - timedelta(seconds=1))
    assert execute(run.id) == "succeeded"
    assert steps_of(run) == [
        ("a", None, 1, "succeeded"),
        ("b", None, 1, "interrupted"),
        ("b", None, 2, "succeeded"),
    ]
    assert kit.calls == [("b", {"text": "12"})]


def test_permanent_error_fails_with_message(workspace, kit):
    kit.failures["call"] = 1
    recipe = make_recipe(
        workspace,
        [
            {
                "key": "call",
                "app": "kit",
                "action": "flaky",
                "config": {"message": "No such channel", "permanent": True},
            },
            {"key": "after", "app": "kit", "action": "echo", "config": {}},
        ],
    )
    run = start(recipe)
    assert execute(run.id) == "failed"
    run.refresh_from_db()
    assert run.failed_step == "call"
    assert "No such channel" in run.error
    assert steps_of(run) == [("call", None, 1, "failed")]


def test_retryable_error_parks_the_run_with_backoff_honouring_retry_after(
    workspace, kit, sent, django_capture_on_commit_callbacks, settings
):
    settings.ENGINE_RETRY_BASE_SECONDS = 0.1
    kit.failures["call"] = 2
    recipe = make_recipe(
        workspace, [{"key": "call", "app": "kit", "action": "flaky", "config": {"retry_after": 7}}]
    )
    run = start(recipe)
    with django_capture_on_commit_callbacks(execute=True):
        assert execute(run.id) == "waiting"
    run.refresh_from_db()
    assert run.status == "waiting" and run.lease_owner == ""
    assert run.resume_at >= timezone.now() + timedelta(seconds=6)
    assert sent[-1][0] == run.id and sent[-1][1] >= 6.5
    # Too early: a message arriving before resume_at does nothing.
    assert execute(run.id) == "not-due"
    Run.objects.filter(id=run.id).update(resume_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert execute(run.id) == "waiting"
    Run.objects.filter(id=run.id).update(resume_at=timezone.now())
    assert execute(run.id) == "succeeded"
    assert steps_of(run) == [
        ("call", None, 1, "retrying"),
        ("call", None, 2, "retrying"),
        ("call", None, 3, "succeeded"),
    ]


def test_backoff_grows_with_jitter_and_a_cap(settings):
    settings.ENGINE_RETRY_BASE_SECONDS = 2
    settings.ENGINE_RETRY_MAX_SECONDS = 20
    delays = [step_attempt.backoff_seconds(n, None) for n in range(1, 8)]
    assert 1 <= delays[0] <= 2
    assert 4 <= delays[2] <= 8
    assert all(d <= 20 for d in delays)
    assert step_attempt.backoff_seconds(1, 30) == 30


def test_gives_up_after_max_attempts(workspace, kit, settings):
    settings.ENGINE_MAX_ATTEMPTS = 2
    kit.failures["call"] = 5
    recipe = make_recipe(
        workspace, [{"key": "call", "app": "kit", "action": "flaky", "config": {}}]
    )
    run = start(recipe)
    assert execute(run.id) == "waiting"
    Run.objects.filter(id=run.id).update(resume_at=timezone.now())
    assert execute(run.id) == "failed"
    run.refresh_from_db()
    assert "gave up after 2 attempts" in run.error


def test_filter_stop_ends_run_as_filtered(workspace, kit):
    recipe = make_recipe(
        workspace,
        [
            {"key": "gate", "app": "kit", "action": "stop", "config": {"reason": "Not urgent"}},
            {"key": "after", "app": "kit", "action": "echo", "config": {}},
        ],
    )
    run = start(recipe)
    assert execute(run.id) == "filtered"
    run.refresh_from_db()
    assert run.error == "Not urgent"
    assert steps_of(run) == [("gate", None, 1, "filtered")]


def test_wait_parks_and_resumes_the_same_attempt(
    workspace, kit, sent, django_capture_on_commit_callbacks
):
    recipe = make_recipe(
        workspace,
        [
            {"key": "pause", "app": "kit", "action": "wait", "config": {"seconds": 60}},
            {"key": "after", "app": "kit", "action": "echo", "config": {}},
        ],
    )
    run = start(recipe)
    with django_capture_on_commit_callbacks(execute=True):
        assert execute(run.id) == "waiting"
    assert 55 < sent[-1][1] <= 60
    Run.objects.filter(id=run.id).update(resume_at=timezone.now())
    assert execute(run.id) == "succeeded"
    assert steps_of(run) == [("pause", None, 1, "succeeded"), ("after", None, 1, "succeeded")]
    assert kit.calls[:2] == [("pause", {"resumed": False}), ("pause", {"resumed": True})]


def test_unexpected_exception_fails_the_step(workspace, kit):
    recipe = make_recipe(workspace, [{"key": "bad", "app": "kit", "action": "boom", "config": {}}])
    run = start(recipe)
    assert execute(run.id) == "failed"
    run.refresh_from_db()
    assert "RuntimeError" in run.error


def test_mapping_error_at_run_time_names_step_and_field(workspace, kit):
    recipe = make_recipe(
        workspace,
        [
            {
                "key": "a",
                "app": "kit",
                "action": "echo",
                "config": {"text": "{{ trigger.missing.deep }}"},
            }
        ],
    )
    run = start(recipe, {"other": 1})
    assert execute(run.id) == "failed"
    run.refresh_from_db()
    assert "“a”" in run.error
    assert run.steps.get().status == "failed"


def test_output_is_capped(workspace, kit, settings):
    settings.ENGINE_OUTPUT_MAX_BYTES = 1000
    recipe = make_recipe(
        workspace, [{"key": "a", "app": "kit", "action": "big", "config": {"size": 5000}}]
    )
    run = start(recipe)
    assert execute(run.id) == "succeeded"
    step = run.steps.get()
    assert step.output_truncated
    assert step.output["truncated"] is True and step.output["size_bytes"] > 5000
    assert len(step.output["preview"]) <= 1000


def test_step_timeout_retries(workspace, kit, settings):
    settings.ENGINE_STEP_TIMEOUT_SECONDS = 0.2
    recipe = make_recipe(
        workspace, [{"key": "a", "app": "kit", "action": "slow", "config": {"seconds": 2}}]
    )
    run = start(recipe)
    assert execute(run.id) == "waiting"
    step = run.steps.get()
    assert step.status == "retrying" and "longer than" in step.error


def test_run_deadline_fails_the_run(workspace, kit):
    recipe = make_recipe(workspace, [{"key": "a", "app": "kit", "action": "echo", "config": {}}])
    run = start(recipe)
    Run.objects.filter(id=run.id).update(deadline=timezone.now() - timedelta(seconds=1))
    assert execute(run.id) == "failed"
    run.refresh_from_db()
    assert "longer than allowed" in run.error


def test_cancel_queued_and_waiting_runs(workspace, kit):
    recipe = make_recipe(
        workspace, [{"key": "pause", "app": "kit", "action": "wait", "config": {}}]
    )
    queued = start(recipe)
    assert cancel(queued)
    assert queued.status == "cancelled"
    assert execute(queued.id) == "already-finished"
    waiting = start(recipe)
    assert execute(waiting.id) == "waiting"
    assert cancel(waiting)
    assert waiting.status == "cancelled"
    assert waiting.steps.get().status == "cancelled"


def test_cancel_running_run_stops_before_next_step(workspace, kit):
    recipe = make_recipe(
        workspace,
        [
            {"key": "a", "app": "kit", "action": "echo", "config": {}},
            {"key": "b", "app": "kit", "action": "echo", "config": {}},
        ],
    )
    run = start(recipe)
    renewals = []

    # The lease is renewed before each step that calls out: where the attempt's row is
    # written (step_record.renew_and_insert), and on its own (Execution.renew) when it runs low.
    def renew_then_cancel(original):
        def renew(self, *args, **kwargs):
            renewals.append(1)
            if len(renewals) == 2:
                cancel(self.run)
            return original(self, *args, **kwargs)

        return renew

    targets = [(leases.Execution, "renew"), (step_record, "renew_and_insert")]
    originals = {(target, name): getattr(target, name) for target, name in targets}
    for (target, name), original in originals.items():
        setattr(target, name, renew_then_cancel(original))
    try:
        assert execute(run.id) == "cancelled"
    finally:
        for (target, name), original in originals.items():
            setattr(target, name, original)
    assert steps_of(run) == [("a", None, 1, "succeeded")]


def test_replay_starts_at_the_failed_step(workspace, kit):
    kit.failures["b"] = 1
    recipe = make_recipe(
        workspace,
        [
            {"key": "a", "app": "kit", "action": "echo", "config": {"text": "x"}},
            {"key": "b", "app": "kit", "action": "flaky", "config": {"permanent": True}},
            {"key": "c", "app": "kit", "action": "echo", "config": {"text": "{{ steps.a.text }}"}},
        ],
    )
    run = start(recipe, {"n": 1})
    assert execute(run.id) == "failed"
    kit.calls.clear()
    again = replay(run)
    assert again.replay_of == run and again.trigger_data == {"n": 1}
    assert execute(again.id) == "succeeded"
    assert [c[0] for c in kit.calls] == ["b", "c"]
    assert again.steps.get(key="c").output == {"text": "x"}
    with pytest.raises(RunError):
        replay(again)


def test_editing_the_recipe_does_not_change_a_queued_run(workspace, kit):
    from hub.recipes.services import publish_recipe

    recipe = make_recipe(
        workspace, [{"key": "a", "app": "kit", "action": "echo", "config": {"text": "v1"}}]
    )
    run = start(recipe)
    recipe.draft["steps"][0]["config"]["text"] = "v2"
    recipe.save()
    publish_recipe(recipe)
    assert execute(run.id) == "succeeded"
    assert run.steps.get().output == {"text": "v1"}
    assert run.version.number == 1


def test_dedupe_key_makes_double_firing_harmless(workspace, kit):
    recipe = make_recipe(workspace, [{"key": "a", "app": "kit", "action": "echo", "config": {}}])
    assert start(recipe, dedupe_key="same") is not None
    assert start(recipe, dedupe_key="same") is None
    assert Run.objects.count() == 1


def test_loop_runs_following_steps_per_item_and_resumes_mid_loop(workspace, kit):
    recipe = make_recipe(
        workspace,
        [
            {
                "key": "each",
                "app": "builtin",
                "action": "loop",
                "config": {"items": "{{ trigger.rows }}", "max": 3},
            },
            {
                "key": "say",
                "app": "kit",
                "action": "echo",
                "config": {"text": "{{ loop.index }}:{{ loop.item.name }}"},
            },
            {"key": "gate", "app": "kit", "action": "flaky", "config": {"permanent": True}},
        ],
    )
    kit.failures["gate"] = 2  # fails for items 0 and... permanently on the first
    run = start(recipe, {"rows": [{"name": n} for n in "abcd"]})
    assert execute(run.id) == "failed"
    kit.failures["gate"] = 0
    again = replay(run)
    assert execute(again.id) == "succeeded"
    rows = [(k, i, s) for k, i, _a, s in steps_of(again)]
    assert rows == [
        ("each", None, "succeeded"),
        ("say", 0, "succeeded"),
        ("gate", 0, "succeeded"),
        ("say", 1, "succeeded"),
        ("gate", 1, "succeeded"),
        ("say", 2, "succeeded"),
        ("gate", 2, "succeeded"),
    ]
    assert again.steps.get(key="each").output == {"count": 3, "truncated": True}
    assert again.steps.get(key="say", item=2).output == {"text": "2:c"}


def test_validation_names_step_and_field(workspace, kit):
    from hub.recipes.format import RecipeFormatError
    from hub.recipes.services import import_recipe

    document = {
        "format": "toolstack.recipe/1",
        "name": "Bad",
        "trigger": {"app": "manual"},
        "steps": [
            {"key": "a", "app": "kit", "action": "need", "config": {}},
            {
                "key": "b",
                "app": "kit",
                "action": "echo",
                "config": {"text": "{{ steps.c.text }}", "nope": 1},
            },
            {"key": "c", "app": "kit", "action": "echo", "config": {}},
            {"key": "d", "app": "kit", "action": "missing", "config": {}},
            {"key": "e", "app": "nosuchapp", "action": "x", "config": {}},
        ],
    }
    with pytest.raises(RecipeFormatError) as raised:
        import_recipe(workspace, document)
    messages = [str(p) for p in raised.value.problems]
    assert any("step “a”" in m and "field “text”" in m and "required" in m for m in messages)
    assert any("step “b”" in m and "field “nope”" in m for m in messages)
    assert any("step “b”" in m and "runs after this step" in m for m in messages)
    assert any("step “d”" in m and "no action" in m for m in messages)
    assert any("step “e”" in m and "nosuchapp" in m for m in messages)


def test_file_format_errors(workspace):
    from hub.recipes.format import RecipeFormatError, normalize

    with pytest.raises(RecipeFormatError) as raised:
        normalize({"format": "other", "steps": [{"key": "Bad Key"}, "x"]})
    text = str(raised.value)
    assert "toolstack.recipe/1" in text and "name" in text and "Step 2" in text
    with pytest.raises(RecipeFormatError, match="cron"):
        normalize(
            {
                "format": "toolstack.recipe/1",
                "name": "x",
                "trigger": {"app": "schedule", "event": "cron", "config": {"cron": "bad"}},
            }
        )


def test_paths_take_the_first_matching_branch_and_skip_the_others(workspace, kit):
    recipe = make_recipe(
        workspace,
        [
            {
                "key": "route",
                "app": "builtin",
                "action": "paths",
                "config": {
                    "branches": [
                        {
                            "name": "urgent",
                            "conditions": [
                                {"field": "{{ trigger.priority }}", "op": "equals", "value": "high"}
                            ],
                            "steps": ["page"],
                        },
                        {"name": "otherwise", "steps": ["note"]},
                    ]
                },
            },
            {"key": "page", "app": "kit", "action": "echo", "config": {"text": "page"}},
            {"key": "note", "app": "kit", "action": "echo", "config": {"text": "note"}},
            {"key": "always", "app": "kit", "action": "echo", "config": {"text": "always"}},
        ],
    )
    high = start(recipe, {"priority": "high"})
    assert execute(high.id) == "succeeded"
    assert [(k, s) for k, _i, _a, s in steps_of(high)] == [
        ("route", "succeeded"),
        ("page", "succeeded"),
        ("note", "skipped"),
        ("always", "succeeded"),
    ]
    assert high.steps.get(key="route").output == {"branch": "urgent"}
    low = start(recipe, {"priority": "low"})
    assert execute(low.id) == "succeeded"
    assert [(k, s) for k, _i, _a, s in steps_of(low)] == [
        ("route", "succeeded"),
        ("page", "skipped"),
        ("note", "succeeded"),
        ("always", "succeeded"),
    ]


def test_builtin_formatter_and_filter(workspace, kit):
    recipe = make_recipe(
        workspace,
        [
            {
                "key": "fmt",
                "app": "builtin",
                "action": "formatter",
                "config": {"operation": "text_upper", "input": "{{ trigger.name }}"},
            },
            {
                "key": "gate",
                "app": "builtin",
                "action": "filter",
                "config": {
                    "conditions": [
                        {"field": "{{ steps.fmt.output }}", "op": "equals", "value": "ADA"}
                    ]
                },
            },
            {
                "key": "say",
                "app": "kit",
                "action": "echo",
                "config": {"text": "{{ steps.fmt.output }}"},
            },
        ],
    )
    run = start(recipe, {"name": "ada"})
    assert execute(run.id) == "succeeded"
    assert run.steps.get(key="say").output == {"text": "ADA"}
    other = start(recipe, {"name": "bob"})
    assert execute(other.id) == "filtered"


def test_paths_validation(workspace, kit):
    from hub.recipes.format import RecipeFormatError

    with pytest.raises(RecipeFormatError, match="not a step after this one"):
        make_recipe(
            workspace,
            [
                {
                    "key": "route",
                    "app": "builtin",
                    "action": "paths",
                    "config": {"branches": [{"name": "a", "steps": ["ghost"]}]},
                }
            ],
        )


def test_step_timeout_on_a_thread_pool(transactional_db, workspace, kit, settings, monkeypatch):
    """A thread-pool worker runs steps off the main thread, where no signal can reach
    them: the watchdog interrupts the step instead."""
    import threading
    import time

    settings.ENGINE_STEP_TIMEOUT_SECONDS = 0.2
    rounds = [0]
    full = 1_000  # 10 s of sleeping when nothing interrupts it

    def busy(ctx):
        for _ in range(full):
            time.sleep(0.01)
            rounds[0] += 1
        return {"slept": True}

    import dataclasses

    original = kit.action
    monkeypatch.setattr(
        kit,
        "action",
        lambda self, key: (
            dataclasses.replace(original(self, key), run=busy)
            if key == "slow"
            else original(self, key)
        ),
    )
    recipe = make_recipe(
        workspace, [{"key": "a", "app": "kit", "action": "slow", "config": {"seconds": 3}}]
    )
    run = start(recipe)
    outcome = {}

    def work():
        from django.db import connection

        try:
            outcome["result"] = execute(run.id)
        finally:
            connection.close()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(60)
    assert outcome["result"] == "waiting"
    # Interrupted partway: the step did not get to finish its work.
    assert rounds[0] < full
    step = run.steps.get()
    assert step.status == "retrying" and "longer than" in step.error
    # Nothing left pending: the thread goes on normally.
    assert timeouts._WATCHDOG._armed == {}
