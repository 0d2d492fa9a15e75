"""The mapping language: step inputs as templates over plain JSON data.

A template is text with references in double braces::

    Hello {{ trigger.sender.name }}, your order {{ steps.order.items.0.sku | upper }} shipped.

A reference is a path into the run's data — a root name (``trigger``, ``steps``, ``loop``,
``run``, whatever the caller provides), then keys and list indexes joined by dots
(``items.0.name``) or in brackets (``items[0]``, ``properties["Due date"]`` for keys with
spaces) — followed by filters separated by ``|``, with arguments after ``:`` (numbers, quoted
text, or bare words, separated by commas).

It is data only, on purpose: lookups go into ``dict`` and ``list`` values and nowhere else.
There is no attribute access, no call, no arithmetic and no evaluation of anything a member
typed; the parser below accepts paths and filter names and refuses everything else.

A string that is exactly one reference keeps the value's type (a list stays a list). A string
with text around its references becomes text: lists and dicts as compact JSON, ``null`` as
nothing, booleans as ``true``/``false``.

Filters (``FILTERS`` holds the same table for the editor):

==================  ==========================================================================
``default:x``       ``x`` when the path is missing, null or empty text; filters before it are
                    skipped for a missing path, so ``a | upper | default:"-"`` works
``upper``           text in capitals
``lower``           text in small letters
``trim``            text without spaces and line breaks at either end
``title``           Text With Each Word Capitalised
``truncate:n``      at most ``n`` characters, ending with "…" when shortened
``replace:a,b``     every ``a`` replaced with ``b`` (``b`` may be left out to remove ``a``)
``split:sep``       text cut into a list at each ``sep`` (at spaces when no ``sep`` is given)
``join:sep``        a list joined into text with ``sep`` between items (default ", ")
``first``           the first item of a list (or first character of text)
``last``            the last item of a list (or last character of text)
``length``          how many items in a list, characters in text, or keys in an object
``slice:a,b``       items (or characters) from position ``a`` up to, not including, ``b``
``round:n``         a number rounded to ``n`` decimals (default 0), halves rounded up
``number``          text such as "1,234.50" read as a number
``text``            any value as text
``json``            any value as compact JSON text
``date:fmt,tz``     a date (ISO-8601 text, or Unix seconds or milliseconds) written with a
                    strftime pattern (default ISO-8601) in an IANA time zone (default UTC);
                    times without an offset are taken to be in that zone
``lines``           text cut into a list of its non-empty lines
``strip_html``      text with HTML tags removed and entities such as ``&amp;`` decoded
``urlencode``       text made safe to put in a URL
``pluck:key``       from a list of objects, the list of their ``key`` values (``key`` may be
                    a dotted path)
==================  ==========================================================================

Everything is bounded: template length, references per template, filters per reference,
config nesting, nesting of values produced, the size of what one ``render`` produces, and
the work its filters do (``MAX_WORK_CHARS``: the characters or items each filter goes through
plus what it writes, summed over every field of the config — a hundred filters over a 1 MB
value are refused, not run).
Going over a limit, like any other problem, raises ``MappingError`` with a message a member
can act on.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from hub.mapping.filters import FILTERS, FilterError, filter_docs
from hub.mapping.values import (
    MAX_CONFIG_DEPTH,
    MAX_CONFIG_NODES,
    MAX_FILTERS,
    MAX_OUTPUT_CHARS,
    MAX_PATH_SEGMENTS,
    MAX_REFERENCES,
    MAX_TEMPLATE_CHARS,
    Budget,
    MappingError,
    Missing,
    Segment,
    as_index,
    dotted,
    kind,
    no_such,
    plain,
    resolve,
    scalar_size,
    to_text,
    weight,
)

__all__ = [
    "FILTERS",
    "MAX_OUTPUT_CHARS",
    "MappingError",
    "Reference",
    "check",
    "filter_docs",
    "references",
    "render",
    "to_text",
]

_NAME = re.compile(r"[^\W\d][\w-]*")
_SEGMENT = re.compile(r"[\w-]+")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?\Z")
_DUNDER = re.compile(r"__\w*__\Z")


# --------------------------------------------------------------------------- parsing


@dataclass(frozen=True)
class _Filter:
    name: str
    args: tuple[Any, ...]


@dataclass(frozen=True)
class _Expr:
    source: str
    path: tuple[Segment, ...]
    filters: tuple[_Filter, ...]

    @property
    def has_default(self) -> bool:
        return any(f.name == "default" for f in self.filters)


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


class _Parser:
    """A hand-written scanner for what sits between ``{{`` and ``}}``."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, what: str) -> MappingError:
        found = self.text[self.pos : self.pos + 12]
        near = f" near “{found}”" if found else " at the end"
        shown = self.text.strip()
        if len(shown) > 60:
            shown = shown[:59] + "…"
        return MappingError(f"“{{{{ {shown} }}}}” is not a valid reference: {what}{near}.")

    def ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expression(self) -> _Expr:
        self.ws()
        if not self.peek():
            raise MappingError("“{{ }}” is empty: put a reference such as {{ trigger.subject }}.")
        path = self.path()
        filters: list[_Filter] = []
        self.ws()
        while self.peek() == "|":
            self.pos += 1
            self.ws()
            filters.append(self.filter())
            if len(filters) > MAX_FILTERS:
                raise MappingError(f"A reference can have at most {MAX_FILTERS} filters.")
            self.ws()
        if self.pos != len(self.text):
            raise self.fail("expected “|” and a filter, or the closing “}}”")
        return _Expr(self.text.strip(), tuple(path), tuple(filters))

    def name(self, what: str) -> str:
        m = _NAME.match(self.text, self.pos)
        if not m:
            raise self.fail(f"expected {what}")
        self.pos = m.end()
        return m.group()

    def path(self) -> list[Segment]:
        path: list[Segment] = [self.name("a name such as trigger or steps")]
        while True:
            ch = self.peek()
            if ch == ".":
                self.pos += 1
                m = _SEGMENT.match(self.text, self.pos)
                if not m:
                    raise self.fail("expected a key or a number after “.”")
                self.pos = m.end()
                seg = m.group()
                # Canonical digits become an index; "007" stays a key so dict lookups match.
                path.append(
                    int(seg) if seg.isascii() and seg.isdigit() and str(int(seg)) == seg else seg
                )
            elif ch == "[":
                self.pos += 1
                self.ws()
                if self.peek() in "\"'" and self.peek():
                    path.append(self.quoted())
                else:
                    m = re.compile(r"-?\d+").match(self.text, self.pos)
                    if not m:
                        raise self.fail("expected a number or quoted key inside “[ ]”")
                    self.pos = m.end()
                    path.append(int(m.group()))
                self.ws()
                if self.peek() != "]":
                    raise self.fail("expected “]”")
                self.pos += 1
            else:
                break
            if len(path) > MAX_PATH_SEGMENTS:
                raise MappingError(f"A reference can be at most {MAX_PATH_SEGMENTS} keys long.")
        for seg in path:
            if isinstance(seg, str) and _DUNDER.match(seg):
                raise MappingError(f"“{seg}” cannot be used in a reference.")
        return path

    def quoted(self) -> str:
        quote = self.text[self.pos]
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch == "\\" and self.pos + 1 < len(self.text):
                out.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            if ch == quote:
                self.pos += 1
                return "".join(out)
            out.append(ch)
            self.pos += 1
        raise self.fail(f"the text starting with {quote} is never closed")

    def filter(self) -> _Filter:
        name = self.name("a filter name after “|”")
        spec = FILTERS.get(name)
        if spec is None:
            close = difflib.get_close_matches(name, FILTERS, n=1)
            hint = f" — did you mean “{close[0]}”?" if close else ""
            raise MappingError(f"there is no filter “{name}”{hint}")
        args: list[Any] = []
        self.ws()
        if self.peek() == ":":
            self.pos += 1
            while True:
                self.ws()
                args.append(self.argument())
                self.ws()
                if self.peek() != ",":
                    break
                self.pos += 1
        if not spec.min_args <= len(args) <= spec.max_args:
            raise MappingError(f"the filter “{name}” takes {spec.arity_text()}: {spec.usage}")
        return _Filter(name, tuple(args))

    def argument(self) -> Any:
        ch = self.peek()
        if ch and ch in "\"'":
            return self.quoted()
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in ",|\"'":
            self.pos += 1
        word = self.text[start : self.pos].strip()
        if not word:
            raise self.fail("expected a value after “:” or “,”")
        if _NUMBER.match(word):
            return float(word) if "." in word else int(word)
        return word


@dataclass(frozen=True)
class _Template:
    parts: tuple[str | _Expr, ...]

    @property
    def single(self) -> _Expr | None:
        if len(self.parts) == 1 and isinstance(self.parts[0], _Expr):
            return self.parts[0]
        return None

    @property
    def exprs(self) -> list[_Expr]:
        return [p for p in self.parts if isinstance(p, _Expr)]


def _scan(text: str) -> _Template:
    if len(text) > MAX_TEMPLATE_CHARS:
        raise MappingError(
            f"This text is {len(text):,} characters long; the limit is {MAX_TEMPLATE_CHARS:,}."
        )
    if "{{" not in text:
        return _Template((text,))
    return _scan_cached(text) if len(text) <= 4096 else _scan_uncached(text)


@lru_cache(maxsize=2048)
def _scan_cached(text: str) -> _Template:
    return _scan_uncached(text)


def _scan_uncached(text: str) -> _Template:
    parts: list[str | _Expr] = []
    pos = 0
    count = 0
    while True:
        start = text.find("{{", pos)
        if start < 0:
            if pos < len(text):
                parts.append(text[pos:])
            break
        if start > pos:
            parts.append(text[pos:start])
        end = _closing(text, start + 2)
        if end < 0:
            raise MappingError(
                "A “{{” is never closed with “}}”: "
                f"“{text[start : start + 30]}”{'…' if len(text) > start + 30 else ''}"
            )
        count += 1
        if count > MAX_REFERENCES:
            raise MappingError(f"One text can hold at most {MAX_REFERENCES} references.")
        parts.append(_Parser(text[start + 2 : end]).expression())
        pos = end + 2
    return _Template(tuple(parts))


def _closing(text: str, pos: int) -> int:
    """Index of the ``}}`` closing a reference, skipping quoted filter arguments."""
    quote = ""
    n = len(text)
    while pos < n:
        ch = text[pos]
        if quote:
            if ch == "\\":
                pos += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "}" and text.startswith("}}", pos):
            return pos
        elif ch == "{" and text.startswith("{{", pos):
            return -1
        pos += 1
    return -1


# --------------------------------------------------------------------------- rendering


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
    template = _scan(text)
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


def _evaluate(expr: _Expr, data: Mapping[str, Any], budget: Budget) -> Any:
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


# --------------------------------------------------------------------------- checking


def references(value: Any, *, field: str | None = None) -> list[Reference]:
    """Every reference in a config, with the field it was found in. Raises ``MappingError``
    on the first syntax error."""
    found: list[Reference] = []
    for where, text in _strings(value, [field] if field else []):
        try:
            template = _scan(text)
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
    anything below it is accepted. ``later_steps`` lets a reference to a step that runs later
    be explained as such.
    """
    later = set(later_steps)
    errors: list[MappingError] = []
    try:
        strings = list(_strings(value, []))
    except MappingError as exc:
        return [exc.located(step=step)]
    for where, text in strings:
        try:
            template = _scan(text)
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
