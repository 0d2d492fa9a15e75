"""The seam between the AI steps and the hub's records.

Integrations may not import the hub, so the steps announce each model call through two
Django signals the hub (``hub.llm``) answers:

- ``call_requested`` before a call: receivers may answer with a ``Gate`` that holds the call
  back (a budget reached: wait until a time, or fail with a message). No receiver, no gate.
- ``call_finished`` after every attempt that reached the provider (or tried to), success or
  not, with its usage: the hub records one call per attempt, so a retry never double-counts.

Prompts and answers are never sent through here: they live only in the step's input/output.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.dispatch import Signal

from integrations.llm.usage import Usage

call_requested = Signal()
call_finished = Signal()


@dataclass(frozen=True)
class CallInfo:
    """Who calls which model, for the budget gate and the call record."""

    workspace_id: int
    provider: str
    model: str
    operation: str  # the step's action: ask, extract, classify, summarize
    purpose: str = "answer"  # answer, repair, chunk, combine, judge
    run_id: int | None = None
    step_key: str | None = None
    recipe_id: int | None = None
    version_id: int | None = None
    member_id: int | None = None
    connection_id: Any = None
    # Settings that change the answer (temperature, output limit, schema): part of the
    # prompt version with the instructions' template.
    parameters: dict[str, Any] = field(default_factory=dict)
    # True for evaluation runs: recorded apart from the recipe's live spending.
    evaluation: bool = False


@dataclass(frozen=True)
class CallOutcome:
    status: str  # ok | error
    usage: Usage
    latency_ms: int
    model_answered: str = ""
    finish_reason: str = ""
    error: str = ""
    first_token_ms: int | None = None


@dataclass(frozen=True)
class Gate:
    """A receiver's answer to ``call_requested`` that holds the call back."""

    message: str
    resume_at: datetime | None = None  # wait until then (or until someone lifts the gate)
    fail: bool = False  # fail the step instead of waiting


def gate_for(info: CallInfo) -> Gate | None:
    for _receiver, answer in call_requested.send(sender=CallInfo, info=info):
        if isinstance(answer, Gate):
            return answer
    return None


def finished(info: CallInfo, outcome: CallOutcome) -> None:
    call_finished.send(sender=CallInfo, info=info, outcome=outcome)
