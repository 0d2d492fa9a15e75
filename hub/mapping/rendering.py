"""Rendering: a step's config filled in from the run's data, as plain JSON, within one
budget for what it produces and the work its filters do."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hub.mapping.budget import MAX_CONFIG_DEPTH, MAX_CONFIG_NODES, Budget, scalar_size, weight
from hub.mapping.errors import MappingError
from hub.mapping.filters import FILTERS, FilterError
from hub.mapping.parsing import Expr, scan
from hub.mapping.values import Missing, Segment, dotted, plain, resolve, to_text


def render(
    value: Any,
    data: Mapping[str, Any],
    *,
    step: str | None = None,
    field: str | None = None,
    budget: Budget | None = None,
) -> Any:
    """Render a step's config against the run's data, returning plain JSON.

    ``data`` maps root names (``trigger``, ``steps``, ``loop``, ``run``…) to plain JSON.
    Raises ``MappingError`` naming the step (when given) and field of the first problem.
    One ``budget`` (a fresh one unless given) bounds what the whole config produces and the
    work its filters do.
    """
    budget = budget or Budget()
    nodes = [0]
    path: list[Segment] = [field] if field else []
    try:
        return _walk(value, data, budget, path, nodes, 0)
    except MappingError as exc:
        raise exc.located(dotted(path) if path else None, step) from None


def _walk(
    value: Any,
    data: Mapping[str, Any],
    budget: Budget,
    path: list[Segment],
    nodes: list[int],
    depth: int,
) -> Any:
    nodes[0] += 1
    if nodes[0] > MAX_CONFIG_NODES:
        raise MappingError(f"This step's settings have more than {MAX_CONFIG_NODES:,} parts.")
    if depth > MAX_CONFIG_DEPTH:
        raise MappingError(f"This step's settings are nested more than {MAX_CONFIG_DEPTH} deep.")
    if isinstance(value, str):
        return _render_string(value, data, budget)
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise MappingError("A setting's name must be text.")
            path.append(k)
            out[k] = _walk(v, data, budget, path, nodes, depth + 1)
            path.pop()
        return out
    if isinstance(value, list | tuple):
        items = []
        for i, v in enumerate(value):
            path.append(i)
            items.append(_walk(v, data, budget, path, nodes, depth + 1))
            path.pop()
        return items
    budget.spend(scalar_size(value))
    return value


def _render_string(text: str, data: Mapping[str, Any], budget: Budget) -> Any:
    template = scan(text)
    single = template.single
    if single is not None:
        result = _evaluate(single, data, budget)
        if isinstance(result, dict | list | tuple):
            return plain(result, budget)
        budget.spend(scalar_size(result))
        return result
    pieces: list[str] = []
    for part in template.parts:
        if isinstance(part, str):
            budget.spend(len(part))
            pieces.append(part)
        else:
            piece = to_text(_evaluate(part, data, budget), budget)
            budget.spend(len(piece))
            pieces.append(piece)
    return "".join(pieces)


def _evaluate(expr: Expr, data: Mapping[str, Any], budget: Budget) -> Any:
    value = resolve(data, expr.path)
    for flt in expr.filters:
        spec = FILTERS[flt.name]
        if isinstance(value, Missing) and not spec.handles_missing:
            continue
        # Charged before the filter runs, so work over the budget is refused, not done.
        if spec.cost == "input":
            budget.charge(weight(value))
        try:
            value = spec.func(value, *flt.args)
        except FilterError as exc:
            raise MappingError(f"in “{{{{ {expr.source} }}}}”, {flt.name}: {exc}") from None
        if spec.cost != "none":
            budget.charge(weight(value))
    if isinstance(value, Missing):
        # A near-miss is most likely a typo; otherwise the data may simply be optional.
        hint = "" if "did you mean" in value.reason else ' (add | default:"…" if it may be missing)'
        raise MappingError(value.reason + hint)
    return value
