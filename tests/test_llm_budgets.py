"""Monthly AI budgets: warnings at 80 and 90 % once a month, and at 100 % a run that waits
("budget reached") without calling the provider, then goes on when the budget is raised or
the month turns — or fails, if the admins chose that."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone

from hub.engine.executor import execute
from hub.engine.models import Run
from hub.engine.runs import start_run
from hub.llm import budgets, months
from hub.llm.models import Budget, BudgetAlert
from tests.llm_support import EMAIL, llm_recipe, openai_fake, recorded_call  # noqa: F401

pytestmark = pytest.mark.django_db


def spend(workspace, dollars, recipe=None, at=None):
    """A recorded call that cost ``dollars`` (as a price table would have priced it)."""
    return recorded_call(workspace, dollars, recipe, at)[0]


def test_admins_are_warned_at_80_and_90_percent_once_a_month(workspace, admin_user):
    budgets.save_budget(workspace, Decimal("10"))
    budgets.check_thresholds(spend(workspace, "7.00"))
    assert mail.outbox == []
    budgets.check_thresholds(spend(workspace, "1.10"))  # 81 %
    budgets.check_thresholds(spend(workspace, "0.10"))  # 82 %: no second 80 % email
    assert [m.subject for m in mail.outbox] == [f"AI budget 80% used for {timezone.now():%Y-%m}"]
    budgets.check_thresholds(spend(workspace, "1.00"))  # 92 %
    assert len(mail.outbox) == 2 and "90%" in mail.outbox[1].subject
    assert mail.outbox[1].to == [admin_user.email]
    assert sorted(BudgetAlert.objects.values_list("threshold", flat=True)) == [80, 90]


def test_the_banner_shows_the_highest_threshold_to_admins_only(
    workspace, admin_client, member_user, client
):
    budgets.save_budget(workspace, Decimal("10"))
    budgets.check_thresholds(spend(workspace, "9.20"))
    page = admin_client.get("/runs/").content.decode()
    assert "AI budget is 90% spent this month." in page
    client.force_login(member_user)
    assert "AI budget" not in client.get("/runs/").content.decode()


def test_at_100_percent_the_run_waits_without_calling_the_provider(workspace, openai_fake):
    budgets.save_budget(workspace, Decimal("1"))
    spend(workspace, "1.00")
    recipe = llm_recipe(workspace, "openai", "ask")
    run = start_run(recipe, Run.Source.MANUAL, {"body": EMAIL})
    assert execute(run.id) == "waiting"
    run.refresh_from_db()
    step = run.steps.get()
    assert step.status == "waiting" and "Budget reached" in step.output["waiting"]
    assert openai_fake.calls("chat.completions") == []
    # It waits for the month to turn (in the workspace's time zone) unless raised first.
    assert run.resume_at == months.current(workspace)[2]

    budgets.save_budget(workspace, Decimal("5"))
    budgets.wake_waiting(workspace.id)  # what saving does once committed
    run.refresh_from_db()
    assert run.resume_at <= timezone.now()
    assert execute(run.id) == "succeeded"
    assert len(openai_fake.calls("chat.completions")) == 1
    assert run.steps.order_by("id").last().output["text"].startswith("Answer:")


def test_a_run_that_resumes_while_the_budget_is_still_reached_waits_again(workspace, openai_fake):
    budgets.save_budget(workspace, Decimal("1"))
    spend(workspace, "2.00")
    run = start_run(llm_recipe(workspace, "openai", "ask"), Run.Source.MANUAL, {"body": EMAIL})
    assert execute(run.id) == "waiting"
    Run.objects.filter(id=run.id).update(resume_at=timezone.now())
    assert execute(run.id) == "waiting"
    assert openai_fake.calls("chat.completions") == []


def test_when_chosen_the_step_fails_instead_of_waiting(workspace, openai_fake):
    budgets.save_budget(workspace, Decimal("1"), on_reach=Budget.OnReach.FAIL)
    spend(workspace, "1.00")
    run = start_run(llm_recipe(workspace, "openai", "ask"), Run.Source.MANUAL, {"body": EMAIL})
    assert execute(run.id) == "failed"
    run.refresh_from_db()
    assert "Budget reached" in run.error and "raise it" in run.error
    assert openai_fake.calls("chat.completions") == []


def test_a_recipe_budget_stops_only_that_recipe(workspace, openai_fake):
    capped = llm_recipe(workspace, "openai", "ask")
    free = llm_recipe(workspace, "openai", "ask")
    free.name = "Other"
    free.save()
    budgets.save_budget(workspace, Decimal("0.50"), recipe=capped)
    spend(workspace, "0.50", recipe=capped)
    one = start_run(capped, Run.Source.MANUAL, {"body": EMAIL})
    two = start_run(free, Run.Source.MANUAL, {"body": EMAIL})
    assert execute(one.id) == "waiting"
    assert execute(two.id) == "succeeded"
    assert "this recipe's AI budget" in one.steps.get().output["waiting"]


def test_months_follow_the_workspace_time_zone(workspace):
    # 23:30 UTC on 30 November is already 1 December in Seoul.
    workspace.timezone = "Asia/Seoul"
    workspace.save(update_fields=["timezone"])
    late = datetime(2026, 11, 30, 23, 30, tzinfo=ZoneInfo("UTC"))
    month, start, end = months.current(workspace, late)
    assert str(month) == "2026-12-01"
    assert start == datetime(2026, 12, 1, tzinfo=ZoneInfo("Asia/Seoul"))
    assert end == datetime(2027, 1, 1, tzinfo=ZoneInfo("Asia/Seoul"))


def test_a_call_in_flight_when_the_budget_is_crossed_is_recorded_in_full(workspace):
    budgets.save_budget(workspace, Decimal("1"))
    spend(workspace, "0.99")
    last = spend(workspace, "0.05")  # passed the gate before the limit was crossed
    state = budgets.state(Budget.objects.get())
    assert state["spent"] == Decimal("1.04") and state["reached"]
    assert last.cost == Decimal("0.05")
