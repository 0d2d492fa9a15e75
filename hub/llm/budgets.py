"""Monthly budgets: what has been spent, the gate before each call, the 80/90/100 % alerts,
and waking the runs that wait when a budget is raised.

The gate reads committed spending. A call that passed it is not stopped when another call
crosses the limit meanwhile, so the overspend is bounded by the calls already in flight
when the limit is crossed (one per busy worker process), and each is recorded honestly.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from hub.engine.models import Run, StepRun
from hub.llm import months, spend
from hub.llm.models import Budget, BudgetAlert, LLMCall, MonthlySpend
from integrations.llm.hooks import CallInfo, Gate

log = logging.getLogger(__name__)

THRESHOLDS = (80, 90, 100)


def spent(budget: Budget, month) -> Decimal:
    """What the budget's scope has spent in the month (committed calls)."""
    found = spend.totals(budget.workspace_id, month, [budget.recipe_id] if budget.recipe_id else [])
    return found.get(scope_key(budget), Decimal(0))


def scope_key(budget: Budget) -> int:
    return budget.recipe_id or MonthlySpend.WORKSPACE_TOTAL


def state(budget: Budget, now: datetime | None = None, used: Decimal | None = None) -> dict:
    month, _start, end = months.current(budget.workspace, now)
    if used is None:
        used = spent(budget, month)
    limit = budget.limit
    percent = float(used / limit * 100) if limit > 0 else 100.0
    return {
        "budget": budget,
        "month": month,
        "resets_at": end,
        "limit": limit,
        "spent": used,
        "percent": round(percent, 1),
        "reached": used >= limit,
    }


def budgets_for(workspace_id: int, recipe_id: int | None) -> list[Budget]:
    which = Q(recipe=None) | Q(recipe_id=recipe_id) if recipe_id else Q(recipe=None)
    return list(
        Budget.objects.filter(Q(workspace_id=workspace_id) & which).select_related("workspace")
    )


def gate(info: CallInfo) -> Gate | None:
    """Hold the call back when a budget that applies to it is reached."""
    found = budgets_for(info.workspace_id, info.recipe_id)
    if not found:
        return None
    month = months.current(found[0].workspace)[0]
    used = spend.totals(info.workspace_id, month, [b.recipe_id for b in found if b.recipe_id])
    for budget in found:
        now = state(budget, used=used.get(scope_key(budget), Decimal(0)))
        if not now["reached"]:
            continue
        if budget.recipe_id:
            message = _(
                "Budget reached: this recipe's AI budget for %(month)s is spent "
                "($%(spent).2f of $%(limit).2f)."
            )
        else:
            message = _(
                "Budget reached: the workspace's AI budget for %(month)s is spent "
                "($%(spent).2f of $%(limit).2f)."
            )
        text = message % {
            "month": now["month"].strftime("%Y-%m"),
            "spent": now["spent"],
            "limit": now["limit"],
        }
        if budget.on_reach == Budget.OnReach.FAIL:
            return Gate(text + " " + _("An admin can raise it on the AI usage page."), fail=True)
        return Gate(text, resume_at=now["resets_at"])
    return None


def check_thresholds(call: LLMCall, totals: dict[int, Decimal] | None = None) -> list[BudgetAlert]:
    """Alerts for the thresholds the call's budgets have now crossed, each once a month.
    ``totals``: the month's totals with this call (``spend.save_call``'s answer); read from
    the database when not given."""
    raised = []
    found = budgets_for(call.workspace_id, call.recipe_id)
    if found and totals is None:
        month = months.month_of(call.created_at, months.zone_of(found[0].workspace))
        totals = spend.totals(call.workspace_id, month, [call.recipe_id] if call.recipe_id else [])
    for budget in found:
        now = state(budget, call.created_at, used=totals.get(scope_key(budget), Decimal(0)))
        crossed = [t for t in THRESHOLDS if now["percent"] >= t]
        if not crossed:
            continue
        told = set(
            BudgetAlert.objects.filter(budget=budget, month=now["month"]).values_list(
                "threshold", flat=True
            )
        )
        for threshold in crossed:
            if threshold in told:
                continue
            try:
                with transaction.atomic():
                    alert = BudgetAlert.objects.create(
                        budget=budget, month=now["month"], threshold=threshold
                    )
            except IntegrityError:
                continue  # another worker told them first
            raised.append(alert)
            _email(budget, threshold, now)
    return raised


def _email(budget: Budget, threshold: int, now: dict) -> None:
    admins = [u.email for u in budget.workspace.admins() if u.email]
    if not admins:
        return
    link = settings.HUB_BASE_URL + reverse("ai_usage")
    scope = _("this recipe") if budget.recipe_id else _("the workspace")
    values = {
        "percent": threshold,
        "scope": scope,
        "spent": now["spent"],
        "limit": now["limit"],
        "month": now["month"].strftime("%Y-%m"),
    }
    if threshold >= 100:
        subject = _("AI budget reached for %(month)s") % values
        action = _("AI steps wait until the budget is raised or the month turns.")
    else:
        subject = _("AI budget %(percent)s%% used for %(month)s") % values
        action = _("Raise the budget if that is expected.")
    body = (
        _("%(percent)s%% of the AI budget of %(scope)s is spent: $%(spent).2f of $%(limit).2f.")
        % values
    )
    send_mail(subject, f"{body}\n{action}\n\n{link}\n", None, admins, fail_silently=True)


def waiting_runs(workspace_id: int) -> list[int]:
    """Runs parked because an AI step's budget was reached."""
    return list(
        StepRun.objects.filter(
            run__workspace_id=workspace_id,
            run__status=Run.Status.WAITING,
            app="llm",
            status=StepRun.Status.WAITING,
            output__has_key="waiting",
        )
        .values_list("run_id", flat=True)
        .distinct()
    )


def wake_waiting(workspace_id: int) -> int:
    """Send the runs that wait on a budget on now (after a raise); a run whose budget is
    still reached parks again at its first AI call, without calling the provider."""
    from hub.engine.scheduler import wake

    ids = waiting_runs(workspace_id)
    if not ids:
        return 0
    Run.objects.filter(id__in=ids, status=Run.Status.WAITING).update(resume_at=timezone.now())
    return wake()


def save_budget(workspace, limit: Decimal, *, recipe=None, on_reach: str = Budget.OnReach.WAIT):
    """Set a budget; runs waiting on a reached budget go on when it is raised (or set to
    fail, so they fail now rather than wait)."""
    budget, _created = Budget.objects.update_or_create(
        workspace=workspace,
        recipe=recipe,
        defaults={"monthly_limit": limit, "on_reach": on_reach},
    )
    transaction.on_commit(lambda: wake_waiting(workspace.id))
    return budget


def current_alerts(workspace) -> list[BudgetAlert]:
    """This month's highest alert per budget, for the admins' banner."""
    found: dict[int, BudgetAlert] = {}
    alerts = BudgetAlert.objects.filter(budget__workspace=workspace, dismissed=False)
    for alert in alerts.select_related("budget__recipe").order_by("-threshold"):
        month = months.current(workspace)[0]
        if alert.month == month and alert.budget_id not in found:
            found[alert.budget_id] = alert
    return list(found.values())
