"""Declarations of what a step takes and gives: ``Field``, ``Choice``, ``OutputField`` and the
output shape publish-time checks read. Part of the integration contract: ``integrations.base``
re-exports every name here, and integrations import them from there.

Providers are typed with ``Any`` where they take a ``Context``: the context is declared in
``integrations.base``, which imports this module, and importing it back would be a cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from hub.mapping import OpenObject

FieldKind = Literal[
    "text", "long_text", "number", "bool", "choice", "date", "json", "list", "secret"
]


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class ChoicePage:
    """One page of choices for a field; ``next_page`` is an opaque token or None when done."""

    choices: list[Choice]
    next_page: str | None = None


# (context, search, page token) -> one page. The context's ``config`` holds the values of the
# field's ``depends_on`` fields, never a ``{{ }}`` reference (the choices endpoint answers
# "choose that first" instead of calling the provider).
ChoicesProvider = Callable[[Any, str, "str | None"], ChoicePage]
# (context) -> further fields, from earlier choices (a Notion data source's properties).
FieldsProvider = Callable[[Any], "list[Field]"]


@dataclass(frozen=True)
class Field:
    """One setting of an action or trigger.

    ``kind="secret"``: text such as an API key. The hub stores it encrypted, never shows it
    back (pages say whether it is set), never exports it, and records it masked in run
    history; ``ctx.config`` holds the plain value only while the step runs. It is taken
    literally, never as a template. Only fields declared in ``Action.fields`` can be secret
    (a fields provider's fields are not known where values are stored).

    ``kind="choice"`` with ``multiple=True``: the value is a list of choice values (a
    ``{{ }}`` reference to a list is accepted where references are).

    ``kind="list"`` with a ``row``: the value is a list of objects, each holding the row's
    sub-fields by key (filter rows, key/value pairs); unknown keys are refused and required
    sub-fields must be there. Sub-fields are checked like fields, but cannot be secret.

    ``accepts_references=False``: the value is taken as typed, so ``{{ }}`` is refused at
    publish time (a picker of fixed modes, an operation name the step's meaning hangs on).

    ``kind="json"`` with a ``builder``: the value has a structure the editor builds as rows
    instead of a text box — ``"conditions"`` (``hub.mapping.conditions``: rows of field,
    operator and value, matched all or any) or ``"paths"`` (named branches, each with its
    conditions and the steps it runs). The stored value is the same JSON either way."""

    key: str
    label: str
    kind: FieldKind = "text"
    required: bool = False
    help: str = ""
    default: Any = None
    # A fixed list of choices, or a provider that loads them live through the connection.
    choices: tuple[Choice, ...] = ()
    dynamic_choices: ChoicesProvider | None = None
    # Keys of the fields whose values the provider needs (chained pickers: space -> list).
    depends_on: tuple[str, ...] = ()
    multiple: bool = False
    # Shown in an empty input: an example of what to type, never a default.
    placeholder: str = ""
    row: tuple[Field, ...] = ()
    accepts_references: bool = True
    builder: Literal["", "conditions", "paths"] = ""

    @property
    def has_choices(self) -> bool:
        return bool(self.choices) or self.dynamic_choices is not None

    def sub_field(self, key: str) -> Field | None:
        return next((f for f in self.row if f.key == key), None)


@dataclass(frozen=True)
class OutputField:
    """One value a step gives later steps. ``children`` declare what is inside it: the keys of
    an object (``kind="json"``) or of each item of a list (``kind="list"``). ``open=True``:
    the object (or each item) also holds keys known only through the connection — a Notion
    data source's properties by name — so publish checks accept any other key inside it."""

    key: str
    label: str
    kind: FieldKind = "text"
    children: tuple[OutputField, ...] = ()
    open: bool = False


_BLANK = {"number": 0, "bool": False, "list": [], "json": None}


def _shape_of(output: OutputField, value: Any, present: bool) -> Any:
    if not output.children:
        return value if present else _BLANK.get(output.kind, "")
    wrap = OpenObject if output.open else dict
    if output.kind == "list":
        items = value if present and isinstance(value, list) else []
        first = items[0] if items and isinstance(items[0], dict) else {}
        return [wrap(_children(output.children, first))]
    return wrap(_children(output.children, value if isinstance(value, dict) else {}))


def _children(children: tuple[OutputField, ...], sample: Mapping[str, Any]) -> dict:
    return {c.key: _shape_of(c, sample.get(c.key), c.key in sample) for c in children}


def output_shape(
    outputs: tuple[OutputField, ...], sample: Mapping[str, Any] | None, *, open: bool = False
) -> dict:
    """What later steps may reference, as publish-time checks see it: the declared output
    keys, each standing for its sample value (so deeper paths into a list or an object are
    checked against the sample's shape), or for a value of its kind when the sample has
    none. Declared ``children`` shape what is inside an object or a list's items.

    ``open=True`` when further outputs are only known through a connection (an action's
    ``outputs_provider``): the declared keys are checked as above and any other key is
    accepted, standing for an unknown value. The editor's data picker reads the same
    declaration."""
    shape = _children(tuple(outputs), sample or {})
    return OpenObject(shape) if open else shape


def with_provided(outputs: tuple[OutputField, ...], provider: Any, ctx: Any) -> tuple:
    """``outputs``, then those ``provider(ctx)`` adds. A declared key is never replaced,
    except an ``open`` one, which the provider may spell out (a list of rows whose
    properties only the connection knows)."""
    if provider is None:
        return outputs
    given = {o.key: o for o in provider(ctx)}
    kept = tuple(given.pop(o.key) if o.open and o.key in given else o for o in outputs)
    static = {o.key for o in outputs}
    return kept + tuple(o for o in given.values() if o.key not in static)


class ProvidedOutputs:
    """``outputs_for(ctx)`` of an ``Action`` or ``Trigger``: every output for the step's
    config, the declared ones, then those its ``outputs_provider`` adds."""

    def outputs_for(self, ctx: Any) -> tuple[OutputField, ...]:
        return with_provided(self.outputs, self.outputs_provider, ctx)  # type: ignore[attr-defined]
