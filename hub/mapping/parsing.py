"""Reading templates: the scanner that finds ``{{ … }}`` references in text and the parser
for what sits between the braces — a data path, then filters with their arguments. Filter
names and argument counts are checked here, against the fixed table in ``filters``, so a
template that parses can only do what that table offers.

Parsing is pure: the same text gives the same ``Template``, so short texts are cached.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from hub.mapping.budget import MAX_FILTERS, MAX_PATH_SEGMENTS, MAX_REFERENCES, MAX_TEMPLATE_CHARS
from hub.mapping.errors import MappingError
from hub.mapping.filters import FILTERS
from hub.mapping.values import Segment

_NAME = re.compile(r"[^\W\d][\w-]*")
_SEGMENT = re.compile(r"[\w-]+")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?\Z")
_DUNDER = re.compile(r"__\w*__\Z")


@dataclass(frozen=True)
class FilterCall:
    name: str
    args: tuple[Any, ...]


@dataclass(frozen=True)
class Expr:
    source: str
    path: tuple[Segment, ...]
    filters: tuple[FilterCall, ...]

    @property
    def has_default(self) -> bool:
        return any(f.name == "default" for f in self.filters)


class Parser:
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

    def expression(self) -> Expr:
        self.ws()
        if not self.peek():
            raise MappingError("“{{ }}” is empty: put a reference such as {{ trigger.subject }}.")
        path = self.path()
        filters: list[FilterCall] = []
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
        return Expr(self.text.strip(), tuple(path), tuple(filters))

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

    def filter(self) -> FilterCall:
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
        return FilterCall(name, tuple(args))

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
class Template:
    parts: tuple[str | Expr, ...]

    @property
    def single(self) -> Expr | None:
        if len(self.parts) == 1 and isinstance(self.parts[0], Expr):
            return self.parts[0]
        return None

    @property
    def exprs(self) -> list[Expr]:
        return [p for p in self.parts if isinstance(p, Expr)]


def scan(text: str) -> Template:
    if len(text) > MAX_TEMPLATE_CHARS:
        raise MappingError(
            f"This text is {len(text):,} characters long; the limit is {MAX_TEMPLATE_CHARS:,}."
        )
    if "{{" not in text:
        return Template((text,))
    return _scan_cached(text) if len(text) <= 4096 else _scan_uncached(text)


@lru_cache(maxsize=2048)
def _scan_cached(text: str) -> Template:
    return _scan_uncached(text)


def _scan_uncached(text: str) -> Template:
    parts: list[str | Expr] = []
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
        parts.append(Parser(text[start + 2 : end]).expression())
        pos = end + 2
    return Template(tuple(parts))


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
