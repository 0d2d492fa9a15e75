"""Evaluations of a recipe's AI steps on saved test cases, without any write action.

Each case's trigger sample runs through the recipe's steps in order: AI steps call their model
(recorded as evaluation calls, priced, counted in budgets); every other step gives its declared
sample instead of running, so nothing is written anywhere. Then the case's checks are applied
to the AI steps' outputs. ``compare`` runs the draft and the live version side by side.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from hub.engine.step_connections import resolve_connection
from hub.llm.models import EvalCase, LLMCall
from hub.mapping import MappingError, render
from integrations import registry
from integrations.base import Context, IntegrationError, WaitUntil
from integrations.llm import judge

CHECKS = ("equals", "contains", "one_of", "is_date", "is_number", "present", "judge")
# A recipe keeps at most this many cases: an evaluation makes one model call per AI step and
# case (and per judge check), so the bound keeps a run's time and cost in proportion.
MAX_CASES = 50


@dataclass
class CaseResult:
    case: EvalCase
    passed: bool
    outputs: dict[str, Any] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    latency_ms: int = 0
    cost: Decimal = Decimal(0)
    unknown_price_calls: int = 0
    # The judge checks' reasons, pass or fail: "why" is worth reading either way.
    verdicts: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "case": self.case.pk,
            "name": self.case.name,
            "passed": self.passed,
            "failures": self.failures,
            "verdicts": self.verdicts,
            "latency_ms": self.latency_ms,
            "cost": str(self.cost),
            "unknown_price_calls": self.unknown_price_calls,
        }


@dataclass
class Evaluation:
    results: list[CaseResult]
    cost: Decimal
    unknown_price_calls: int

    @property
    def pass_rate(self) -> float:
        return sum(r.passed for r in self.results) / len(self.results) if self.results else 0.0

    @property
    def latency_ms(self) -> int:
        return sum(r.latency_ms for r in self.results)

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    def summary(self) -> dict[str, Any]:
        """The evaluation as plain JSON, as an ``EvalRun`` keeps it."""
        return {
            "passed": self.passed,
            "total": len(self.results),
            "pass_rate": self.pass_rate,
            "cost": str(self.cost),
            "unknown_price_calls": self.unknown_price_calls,
            "latency_ms": self.latency_ms,
            "cases": [r.summary() for r in self.results],
        }


def check(rule: dict, value: Any) -> str | None:
    """Why ``value`` fails the rule, or None when it passes."""
    kind, expected = rule.get("check"), rule.get("value")
    where = f"{rule.get('step')}.{rule.get('field')}"
    if kind == "present":
        ok = value not in (None, "", [])
    elif kind == "equals":
        ok = value == expected or str(value) == str(expected)
    elif kind == "contains":
        ok = str(expected).lower() in str(value).lower()
    elif kind == "one_of":
        ok = value in (expected or [])
    elif kind == "is_number":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif kind == "is_date":
        try:
            ok = bool(date.fromisoformat(str(value)[:10])) and bool(re.match(r"\d{4}-", str(value)))
        except ValueError:
            ok = False
    else:
        return _("%(where)s: unknown check “%(check)s”.") % {"where": where, "check": kind}
    if ok:
        return None
    return _("%(where)s: %(check)s %(expected)s failed (got %(value)s).") % {
        "where": where,
        "check": kind,
        "expected": "" if expected is None else repr(expected),
        "value": repr(value),
    }


def _step_output(recipe, step: dict, data: dict, timezone: str) -> dict:
    integration = registry.get(step["app"])
    action = integration.action(step["action"])
    if step["app"] != "llm":
        # No write, no call: later steps see the step's declared sample.
        return dict(action.sample)
    config = render(step.get("config") or {}, data, step=step["key"])
    connection = resolve_connection(
        recipe.workspace_id, step["app"], step.get("connection"), step.get("connection_id")
    )
    ctx = Context(
        workspace_id=recipe.workspace_id,
        config=config,
        connection=connection,
        step_key=step["key"],
        integration=integration,
        timezone=timezone,
        recipe_id=recipe.id,
        member_id=recipe.owner_id,
    )
    ctx.evaluation = True  # recorded as an evaluation call, apart from live spending
    return action.run(ctx)


def _judge(recipe, rule: dict, value: Any) -> tuple[str | None, str]:
    """(why the judge failed the answer or None, the judge's reason)."""
    where = f"{rule.get('step')}.{rule.get('field')}"
    connection = resolve_connection(
        recipe.workspace_id, "llm", rule.get("connection"), rule.get("connection_id")
    )
    if connection is None:
        problem = _("%(where)s: the judge's AI connection is gone; choose another.") % {
            "where": where
        }
        return problem, ""
    ctx = Context(
        workspace_id=recipe.workspace_id,
        config={"model": rule.get("model") or ""},
        connection=connection,
        step_key=str(rule.get("step") or ""),
        integration=registry.get("llm"),
        recipe_id=recipe.id,
        member_id=recipe.owner_id,
    )
    ctx.evaluation = True
    try:
        verdict = judge.judge(ctx, str(rule.get("value") or ""), value, where)
    except IntegrationError as error:
        return f"{where}: {error.message}", ""
    except WaitUntil:
        return f"{where}: " + _("the AI budget is reached"), ""
    if verdict.passed:
        return None, f"{where}: {verdict.reason}"
    failed = _("%(where)s: the judge said no: %(reason)s") % {
        "where": where,
        "reason": verdict.reason,
    }
    return failed, f"{where}: {verdict.reason}"


def _last_call_id(recipe) -> int:
    last = LLMCall.objects.filter(workspace_id=recipe.workspace_id).order_by("-id").first()
    return last.id if last else 0


def _spent_since(recipe, after_id: int) -> tuple[Decimal, int]:
    """The cost of this recipe's evaluation calls recorded after ``after_id``, and how many
    of them had no price (counted apart: never as $0)."""
    calls = LLMCall.objects.filter(
        workspace_id=recipe.workspace_id, recipe=recipe, evaluation=True, id__gt=after_id
    ).only("cost", "status")
    cost = sum((c.cost for c in calls if c.cost is not None), Decimal(0))
    unknown = sum(1 for c in calls if c.cost is None and c.status == LLMCall.Status.OK)
    return cost, unknown


def run_case(recipe, document: dict, case: EvalCase) -> CaseResult:
    data: dict[str, Any] = {"trigger": case.trigger_data, "steps": {}}
    timezone = document.get("timezone") or "UTC"
    started = time.monotonic()
    first_call = _last_call_id(recipe)
    failures: list[str] = []
    verdicts: list[str] = []
    for step in document.get("steps") or []:
        try:
            data["steps"][step["key"]] = _step_output(recipe, step, data, timezone)
        except (IntegrationError, MappingError) as error:
            failures.append(f"{step['key']}: {getattr(error, 'message', error)}")
            break
        except WaitUntil:
            failures.append(f"{step['key']}: " + _("the AI budget is reached"))
            break
    if not failures:
        for rule in case.checks or []:
            value = (data["steps"].get(rule.get("step")) or {}).get(rule.get("field"))
            if rule.get("check") == "judge":
                problem, reason = _judge(recipe, rule, value)
                if reason:
                    verdicts.append(reason)
            else:
                problem = check(rule, value)
            if problem:
                failures.append(problem)
    cost, unknown = _spent_since(recipe, first_call)
    return CaseResult(
        case=case,
        passed=not failures,
        outputs={k: v for k, v in data["steps"].items()},
        failures=failures,
        latency_ms=int((time.monotonic() - started) * 1000),
        cost=cost,
        unknown_price_calls=unknown,
        verdicts=verdicts,
    )


def evaluate(recipe, document: dict) -> Evaluation:
    cases = EvalCase.objects.filter(recipe=recipe)[:MAX_CASES]
    results = [run_case(recipe, document, c) for c in cases]
    return Evaluation(
        results=results,
        cost=sum((r.cost for r in results), Decimal(0)),
        unknown_price_calls=sum(r.unknown_price_calls for r in results),
    )


def compare(recipe) -> dict[str, Evaluation | None]:
    """The draft and the live version on the same cases, side by side."""
    live = recipe.current_version
    return {
        "draft": evaluate(recipe, recipe.draft or (live.document if live else {})),
        "live": evaluate(recipe, live.document) if live else None,
    }


def needs_confirmation(recipe) -> bool:
    """Publishing the draft asks for confirmation when it passes fewer cases than live."""
    both = compare(recipe)
    return both["live"] is not None and both["draft"].pass_rate < both["live"].pass_rate
