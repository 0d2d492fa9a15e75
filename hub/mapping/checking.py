"""Checking before a recipe is published: every reference in a step's config, and each one
followed through sample data, so a typo is caught with a did-you-mean instead of failing a
run later."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hub.mapping.budget import MAX_CONFIG_DEPTH, MAX_CONFIG_NODES
from hub.mapping.errors import MappingError
from hub.mapping.parsing import scan
from hub.mapping.values import Segment, as_index, dotted, kind, no_such


class OpenObject(dict):
    """In sample data for ``check``: an object whose keys listed are checked as usual, while
    any other key is accepted and stands for an unknown value — the outputs of a step whose
    further fields are only known through a connection (a Notion data source's properties)."""


@dataclass(frozen=True)
class Reference:
    """One reference found in a step's config, for publish-time checks.

    ``field`` is where it was found (dotted config path); ``path`` is the data path, e.g.
    ``("steps", "summarize", "text")``; ``source`` is what the member wrote between braces.
    """

    field: str
    path: tuple[Segment, ...]
    source: str
    filters: tuple[str, ...] = ()
    has_default: bool = False

    @property
    def root(self) -> str:
        return str(self.path[0])

    @property
    def step(self) -> str | None:
        """The step key a ``steps.<key>…`` reference points at."""
        if self.root == "steps" and len(self.path) > 1:
            return str(self.path[1])
        return None

    @property
    def dotted(self) -> str:
        return dotted(self.path)


def references(value: Any, *, field: str | None = None) -> list[Reference]:
    """Every reference in a config, with the field it was found in. Raises ``MappingError``
    on the first syntax error."""
    found: list[Reference] = []
    for where, text in _strings(value, [field] if field else []):
        try:
            template = scan(text)
        except MappingError as exc:
            raise exc.located(where) from None
        for expr in template.exprs:
            found.append(
                Reference(
                    field=where,
                    path=expr.path,
                    source=expr.source,
                    filters=tuple(f.name for f in expr.filters),
                    has_default=expr.has_default,
                )
            )
    return found


def _strings(value: Any, path: list[Segment]) -> Iterable[tuple[str, str]]:
    stack: list[tuple[Any, list[Segment]]] = [(value, path)]
    nodes = 0
    while stack:
        node, where = stack.pop()
        nodes += 1
        if nodes > MAX_CONFIG_NODES:
            raise MappingError(f"This step's settings have more than {MAX_CONFIG_NODES:,} parts.")
        if len(where) > MAX_CONFIG_DEPTH:
            raise MappingError(
                f"This step's settings are nested more than {MAX_CONFIG_DEPTH} deep.",
                dotted(where),
            )
        if isinstance(node, str):
            yield dotted(where), node
        elif isinstance(node, dict):
            stack.extend((v, [*where, k]) for k, v in reversed(list(node.items())))
        elif isinstance(node, list | tuple):
            stack.extend((v, [*where, i]) for i, v in reversed(list(enumerate(node))))


def check(
    value: Any,
    known: Mapping[str, Any],
    *,
    step: str | None = None,
    later_steps: Iterable[str] = (),
) -> list[MappingError]:
    """Check a config's templates against sample data; return every problem found.

    ``known`` is shaped like render's ``data`` but holds samples: the trigger's sample and,
    under ``steps``, the sample output of each step that runs before this one. A list in a
    sample stands for "a list of items like its first item"; ``None`` stands for "unknown", so
    anything below it is accepted, and an ``OpenObject`` accepts keys it does not list.
    ``later_steps`` lets a reference to a step that runs later be explained as such.
    """
    later = set(later_steps)
    errors: list[MappingError] = []
    try:
        strings = list(_strings(value, []))
    except MappingError as exc:
        return [exc.located(step=step)]
    for where, text in strings:
        try:
            template = scan(text)
        except MappingError as exc:
            errors.append(exc.located(where or None, step))
            continue
        for expr in template.exprs:
            problem = _check_path(expr.path, known, later, step)
            if problem and not expr.has_default:
                errors.append(MappingError(problem, where or None, step=step))
    return errors


def _check_path(
    path: tuple[Segment, ...], known: Mapping[str, Any], later: set[str], step: str | None = None
) -> str:
    if path[0] == "steps" and len(path) > 1 and step is not None and str(path[1]) == step:
        return (
            f"“{dotted(path[:2])}” is the output of this same step; "
            "use data from the trigger or from earlier steps"
        )
    if path[0] == "steps" and len(path) > 1 and str(path[1]) in later:
        return (
            f"“{dotted(path[:2])}” runs after this step; "
            "a step can only use data from steps before it"
        )
    current: Any = known
    for i, seg in enumerate(path):
        here = dotted(path[:i])
        if current is None:
            return ""
        if isinstance(current, dict):
            key = str(seg)
            if key not in current:
                if isinstance(current, OpenObject):
                    return ""
                return no_such(path[: i + 1], current.keys())
            current = current[key]
        elif isinstance(current, list | tuple):
            if as_index(seg) is None:
                return f"“{here}” is a list; use a position such as “{here}.0”, not “{seg}”"
            if not current:
                return ""
            current = current[0]
        else:
            return f"“{here}” is {kind(current)}, so it has no “{seg}”"
    return ""
