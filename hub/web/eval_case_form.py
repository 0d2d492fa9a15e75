"""The test case form: a name, the trigger sample as labelled fields (or, for power users, as
data), and checks picked from lists — which AI step's output, which check, which value.

The sample's labelled fields are the trigger's declared outputs, the ``trigger.…`` values the
recipe's steps insert, and whatever the case already holds, so a member types "Subject" and
"Body" instead of JSON. Nested values (a list of attachments from a real run) keep their
shape: such a field is shown and read as data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hub.mapping import MappingError
from hub.mapping.checking import references
from hub.recipes.evaluations import CHECKS
from hub.web import editor_cards as cards
from integrations import registry
from integrations.base import Context
from integrations.llm import calling

CHECK_LABELS = {
    "equals": gettext_lazy("equals"),
    "contains": gettext_lazy("contains"),
    "one_of": gettext_lazy("is one of the allowed values"),
    "is_date": gettext_lazy("is a valid date"),
    "is_number": gettext_lazy("is a valid number"),
    "present": gettext_lazy("is present (not empty)"),
    "judge": gettext_lazy("passes an AI judge's rubric"),
}
# Checks that compare with a value the member types.
WITH_VALUE = ("equals", "contains", "one_of")
EXTRA_SAMPLE_ROWS = 2
MAX_CHECKS = 30


@dataclass
class SampleRow:
    key: str
    label: str
    value: str
    as_data: bool = False  # the value is JSON (a list or an object), read back as such


@dataclass
class CheckRow:
    output: str = ""  # "step|field"
    check: str = "equals"
    value: str = ""
    judge: str = ""  # "connection id|model"
    rubric: str = ""
    error: str = ""


@dataclass
class CaseForm:
    name: str = ""
    rows: list[SampleRow] = field(default_factory=list)
    sample_json: str = "{}"
    checks: list[CheckRow] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.errors and not any(c.error for c in self.checks)


def ai_steps(document: dict) -> list[dict]:
    return [s for s in document.get("steps") or [] if s.get("app") == "llm" and s.get("action")]


def output_choices(document: dict) -> list[tuple[str, str]]:
    """("step|field", "Step: Output") for every output of the document's AI steps."""
    found = []
    for step in ai_steps(document):
        _integration, action = cards.find("llm", step["action"])
        if action is None:
            continue
        title = step.get("name") or action.label
        for output in action.outputs_for(
            Context(workspace_id=0, config=dict(step.get("config") or {}))
        ):
            found.append((f"{step['key']}|{output.key}", f"{title}: {output.label}"))
    return found


def judge_choices(request) -> list[tuple[str, str]]:
    """("connection id|model", "Connection · model") for every model the admins made
    available on the AI connections the member may use."""
    found = []
    for connection in cards.usable_connections(request, registry.get("llm")):
        ctx = Context(workspace_id=request.workspace.pk, connection=connection)
        for model in calling.allowed_models(ctx):
            found.append((f"{connection.pk}|{model['id']}", f"{connection.label} · {model['id']}"))
    return found


def _trigger_keys(document: dict) -> list[tuple[str, str]]:
    trigger = document.get("trigger") or {}
    keys: list[tuple[str, str]] = []
    _integration, declared = cards.find(
        trigger.get("app") or "", trigger.get("event") or "", trigger=True
    )
    for output in getattr(declared, "outputs", ()) or ():
        keys.append((output.key, str(output.label)))
    for step in document.get("steps") or []:
        try:
            found = references(step.get("config") or {})
        except MappingError:
            continue
        for ref in found:
            if ref.root == "trigger" and len(ref.path) > 1:
                key = str(ref.path[1])
                if key not in dict(keys):
                    keys.append((key, key.replace("_", " ").capitalize()))
    return keys


def _shown(value: Any) -> tuple[str, bool]:
    if value is None:
        return "", False
    if isinstance(value, str):
        return value, False
    return json.dumps(value, ensure_ascii=False), True


def blank(document: dict, request) -> CaseForm:
    return from_case(document, request, "", {}, [])


def from_case(document: dict, request, name: str, data: dict, checks: list[dict]) -> CaseForm:
    rows = []
    known = _trigger_keys(document)
    for key, label in known + [(k, k) for k in data if k not in dict(known)]:
        value, as_data = _shown(data.get(key))
        rows.append(SampleRow(key=key, label=label, value=value, as_data=as_data))
    rows += [SampleRow(key="", label="", value="") for _ in range(EXTRA_SAMPLE_ROWS)]
    rows_json = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    check_rows = [
        CheckRow(
            output=f"{c.get('step')}|{c.get('field')}",
            check=c.get("check") or "equals",
            value=_value_text(c),
            judge=f"{c.get('connection_id')}|{c.get('model')}" if c.get("check") == "judge" else "",
            rubric=str(c.get("value") or "") if c.get("check") == "judge" else "",
        )
        for c in checks
    ]
    check_rows.append(CheckRow())
    return CaseForm(name=name, rows=rows, sample_json=rows_json, checks=check_rows)


def _value_text(rule: dict) -> str:
    value = rule.get("value")
    if rule.get("check") == "judge" or value is None:
        return ""
    if rule.get("check") == "one_of" and isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def read(post, document: dict, request) -> tuple[CaseForm, dict | None]:
    """The form as posted and the case's values ``{name, trigger_data, checks}``, or None
    when something must be fixed (the form then says what)."""
    form = CaseForm(name=post.get("name", "").strip()[:200])
    if not form.name:
        form.errors["name"] = _("Give the test case a name.")
    data = _read_sample(post, form)
    outputs = dict(output_choices(document))
    judges = dict(judge_choices(request))
    rules = []
    for i in range(min(int(post.get("check_count") or 0), MAX_CHECKS)):
        row = CheckRow(
            output=post.get(f"check-{i}-output", ""),
            check=post.get(f"check-{i}-check", "equals"),
            value=post.get(f"check-{i}-value", ""),
            judge=post.get(f"check-{i}-judge", ""),
            rubric=post.get(f"check-{i}-rubric", "").strip(),
        )
        form.checks.append(row)
        if not row.output:
            continue  # a row left on "—" is no check
        rule = _rule(row, outputs, judges)
        if rule is not None:
            rules.append(rule)
    if "add_check" in post or not form.checks or form.checks[-1].output:
        form.checks.append(CheckRow())
    if "add_field" in post:
        form.rows.append(SampleRow(key="", label="", value=""))
    if not rules and not form.errors and not any(c.error for c in form.checks):
        form.errors["checks"] = _("Add at least one check: what should the AI steps give?")
    if "add_check" in post or "add_field" in post or not form.valid:
        return form, None
    return form, {"name": form.name, "trigger_data": data, "checks": rules}


def _read_sample(post, form: CaseForm) -> dict:
    raw = post.get("sample_json", "").strip()
    form.sample_json = raw
    if raw and raw != post.get("sample_json_shown", "").strip():
        # The member edited the data itself: it wins over the labelled fields.
        try:
            data = json.loads(raw)
        except ValueError as error:
            form.errors["sample_json"] = _(
                "The sample data is not valid JSON: look at line %(line)s, column %(column)s."
            ) % {"line": getattr(error, "lineno", 1), "column": getattr(error, "colno", 1)}
            data = {}
        if not isinstance(data, dict):
            form.errors["sample_json"] = _('The sample data must be an object: {"name": …}.')
            data = {}
        for key, value in data.items():
            shown, as_data = _shown(value)
            form.rows.append(SampleRow(key=key, label=key, value=shown, as_data=as_data))
        return data
    data: dict[str, Any] = {}
    for i in range(int(post.get("field_count") or 0)):
        key = post.get(f"field-{i}-key", "").strip()
        label = post.get(f"field-{i}-label", "") or key
        value = post.get(f"field-{i}-value", "")
        as_data = post.get(f"field-{i}-as_data") == "1"
        form.rows.append(SampleRow(key=key, label=label, value=value, as_data=as_data))
        if not key or value == "":
            continue  # an empty field is left out of the sample
        if as_data and value.strip():
            try:
                data[key] = json.loads(value)
            except ValueError:
                form.errors[f"field-{i}"] = _("“%(key)s” holds data: write it as JSON.") % {
                    "key": label
                }
            continue
        data[key] = value
    form.sample_json = json.dumps(data, indent=2, ensure_ascii=False)
    return data


def _rule(row: CheckRow, outputs: dict, judges: dict) -> dict | None:
    if row.output not in outputs:
        row.error = _("Choose one of the AI steps' outputs.")
        return None
    if row.check not in CHECKS:
        row.error = _("Choose a check from the list.")
        return None
    step, _sep, output = row.output.partition("|")
    rule: dict[str, Any] = {"step": step, "field": output, "check": row.check}
    if row.check in WITH_VALUE:
        if not row.value.strip():
            row.error = _("Write the value to check against.")
            return None
        if row.check == "one_of":
            rule["value"] = [
                v.strip() for v in row.value.replace("\n", ",").split(",") if v.strip()
            ]
        else:
            rule["value"] = _typed(row.value)
    elif row.check == "judge":
        if row.judge not in judges:
            row.error = _("Choose the model that judges.")
            return None
        if not row.rubric:
            row.error = _("Write the rubric the judge grades by.")
            return None
        connection_id, _sep, model = row.judge.partition("|")
        label = judges[row.judge].split(" · ")[0]
        rule.update(
            value=row.rubric, connection_id=int(connection_id), connection=label, model=model
        )
    return rule


def _typed(text: str) -> Any:
    """A typed value as the member meant it: a list or object written as JSON (as a saved
    run's answers are shown) is that list or object; anything else is the text."""
    stripped = text.strip()
    if stripped[:1] in ("[", "{"):
        try:
            return json.loads(stripped)
        except ValueError:
            pass
    return text
