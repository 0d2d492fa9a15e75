"""Secret step fields: values an action declares with ``Field(kind="secret")`` (the HTTP
step's sign-in value) are kept out of everything that is stored, shown or exported.

- **At rest** (drafts, versions) a secret is stored sealed: ``{"$secret": "<Fernet token>"}``,
  encrypted with the vault's keys (``hub.connections.crypto``, rotated by ``rotate_keys``).
  The plain text carries the workspace, so a token is only ever opened for a step of the
  workspace that sealed it, and only a token sealed as a step secret opens at all (never,
  say, a connection's access token).
- **In files** a secret travels as ``""``: export blanks it (``to_file``), and import treats
  ``""`` as "to be entered" (the recipe stays a draft with a message saying what to fill).
  A file holding a plain value has it sealed on import; a sealed value arriving in a file is
  dropped (``from_file``), since only this hub's own drafts may hold one.
- **In run records** the step's input shows ``SHOWN`` instead of the value.
- **At run time** the executor opens it into the config the action receives, and nowhere else.

A secret is taken literally, never as a template.
"""

from __future__ import annotations

import copy
from typing import Any

from integrations import registry
from integrations.base import IntegrationError

MARKER = "$secret"
SHOWN = "••••••"
_PURPOSE = "step-secret/1"


def secret_keys(app: Any, action: Any) -> tuple[tuple[str, str], ...]:
    """(key, label) of each secret field the action declares; none for unknown actions."""
    if not isinstance(app, str) or not isinstance(action, str):
        return ()
    try:
        declared = registry.get(app).actions.get(action)
    except IntegrationError:
        return ()
    if declared is None:
        return ()
    return tuple((f.key, str(f.label)) for f in declared.fields if f.kind == "secret")


def is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {MARKER} and isinstance(value[MARKER], str)


def state(value: Any) -> str:
    """``set``, ``missing`` (to be entered: a file left it blank) or ``unset`` (absent)."""
    if value is None:
        return "unset"
    if value == "":
        return "missing"
    return "set"


def seal_value(plain: str, workspace_id: int) -> dict[str, str]:
    from hub.connections import crypto

    return {MARKER: crypto.encrypt(f"{_PURPOSE}:{workspace_id}:{plain}")}


def _steps(document: Any) -> list[dict]:
    steps = document.get("steps") if isinstance(document, dict) else None
    if not isinstance(steps, list):
        return []
    return [s for s in steps if isinstance(s, dict) and isinstance(s.get("config"), dict)]


def seal(document: Any, workspace_id: int) -> Any:
    """The document with every plain secret value sealed (a copy when anything changed)."""
    changes = []
    for index, step in enumerate(_steps(document)):
        for key, _label in secret_keys(step.get("app"), step.get("action")):
            value = step["config"].get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                value = str(value)
            if isinstance(value, str) and value:
                changes.append((index, key, seal_value(value, workspace_id)))
    if not changes:
        return document
    out = copy.deepcopy(document)
    steps = _steps(out)
    for index, key, sealed in changes:
        steps[index]["config"][key] = sealed
    return out


def _drop_sealed(value: Any) -> Any:
    if is_sealed(value):
        return ""
    if isinstance(value, dict):
        return {k: _drop_sealed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_drop_sealed(v) for v in value]
    return value


def from_file(document: Any) -> Any:
    """A document read from a file, with any sealed value in it dropped (left to be
    entered): only this hub's own drafts hold sealed values. Plain values stay, for
    ``seal`` to encrypt."""
    out = copy.deepcopy(document)
    for step in _steps(out):
        step["config"] = _drop_sealed(step["config"])
    return out


def to_file(document: Any) -> Any:
    """The document as it is exported: every secret that has a value written as ``""``
    (to be entered by whoever imports it), no sealed value anywhere."""
    out = from_file(document)
    for step in _steps(out):
        for key, _label in secret_keys(step.get("app"), step.get("action")):
            if step["config"].get(key) not in (None, ""):
                step["config"][key] = ""
    return out


def redact(step: dict, config: Any) -> Any:
    """A step's input as a run record keeps it: secrets replaced by ``SHOWN``."""
    if not isinstance(config, dict):
        return config
    keys = {key for key, _ in secret_keys(step.get("app"), step.get("action"))}
    out = {}
    for name, value in config.items():
        if is_sealed(value) or (name in keys and value not in (None, "")):
            out[name] = SHOWN
        else:
            out[name] = value
    return out


def reveal(step: dict, config: Any, workspace_id: int) -> Any:
    """The config the action is called with: its declared secret fields opened. Raises a
    permanent IntegrationError naming the field when one cannot be opened here."""
    if not isinstance(config, dict):
        return config
    out = dict(config)
    for key, label in secret_keys(step.get("app"), step.get("action")):
        value = out.get(key)
        if value == "":
            raise IntegrationError(
                f"“{label}” is to be entered: fill it in on the recipe page and publish.",
                permanent=True,
            )
        if is_sealed(value):
            out[key] = _open(value[MARKER], workspace_id, label)
    return out


def _open(token: str, workspace_id: int, label: str) -> str:
    from hub.connections import crypto

    unreadable = IntegrationError(
        f"“{label}” cannot be read here; enter it again on the recipe page and publish.",
        permanent=True,
    )
    try:
        plain = crypto.decrypt(token)
    except crypto.VaultError as error:
        raise IntegrationError(str(error), permanent=True) from None
    except (TypeError, ValueError):
        raise unreadable from None
    prefix = f"{_PURPOSE}:{workspace_id}:"
    if not plain.startswith(prefix):
        raise unreadable
    return plain[len(prefix) :]


def listing(document: Any) -> list[dict[str, str]]:
    """Every secret field of the document's steps and whether it is set, for pages."""
    rows = []
    for step in _steps(document):
        for key, label in secret_keys(step.get("app"), step.get("action")):
            rows.append(
                {
                    "step": str(step.get("key")),
                    "step_name": str(step.get("name") or step.get("key")),
                    "field": key,
                    "label": label,
                    "state": state(step["config"].get(key)),
                }
            )
    return rows


def rotate(document: Any) -> tuple[Any, int]:
    """The document with every sealed value re-encrypted under the first vault key."""
    from hub.connections import crypto

    count = 0

    def walk(value: Any) -> Any:
        nonlocal count
        if is_sealed(value):
            count += 1
            return {MARKER: crypto.rotate(value[MARKER])}
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    out = walk(document)
    return out, count
