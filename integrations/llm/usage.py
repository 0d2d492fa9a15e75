"""One canonical usage record for every provider.

Providers count tokens differently, and a bill is only right when the conversion is explicit:

- OpenAI (and OpenAI-compatible servers): ``prompt_tokens`` *includes*
  ``prompt_tokens_details.cached_tokens``; ``completion_tokens`` includes
  ``completion_tokens_details.reasoning_tokens``.
- Anthropic: ``cache_creation_input_tokens`` and ``cache_read_input_tokens`` come *in addition
  to* ``input_tokens``; thinking is inside ``output_tokens`` and not counted apart.
- Gemini: ``promptTokenCount`` *includes* ``cachedContentTokenCount``; ``thoughtsTokenCount``
  comes *in addition to* ``candidatesTokenCount`` and is billed as output.

In the canonical record ``input_uncached + cache_read + cache_write`` is everything read, and
``output`` is everything billed as output, reasoning included (``reasoning`` is the part of
``output`` spent thinking, shown apart, never billed twice).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Usage:
    input_uncached: int = 0
    cache_read: int = 0
    cache_write: int = 0
    output: int = 0
    reasoning: int = 0

    @property
    def input_total(self) -> int:
        return self.input_uncached + self.cache_read + self.cache_write

    @property
    def total(self) -> int:
        return self.input_total + self.output

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def __add__(self, other: Usage) -> Usage:
        return Usage(**{k: getattr(self, k) + getattr(other, k) for k in asdict(self)})


def _get(obj: Any, name: str) -> Any:
    """A field of an SDK object or of its JSON form (recorded payloads are plain dicts)."""
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def _int(value: Any) -> int:
    return int(value or 0)


def from_openai(usage: Any) -> Usage:
    prompt = _int(_get(usage, "prompt_tokens"))
    cached = _int(_get(_get(usage, "prompt_tokens_details"), "cached_tokens"))
    completion = _int(_get(usage, "completion_tokens"))
    reasoning = _int(_get(_get(usage, "completion_tokens_details"), "reasoning_tokens"))
    return Usage(
        input_uncached=max(prompt - cached, 0),
        cache_read=min(cached, prompt),
        output=completion,
        reasoning=min(reasoning, completion),
    )


def from_anthropic(usage: Any) -> Usage:
    return Usage(
        input_uncached=_int(_get(usage, "input_tokens")),
        cache_read=_int(_get(usage, "cache_read_input_tokens")),
        cache_write=_int(_get(usage, "cache_creation_input_tokens")),
        output=_int(_get(usage, "output_tokens")),
    )


def from_gemini(usage: Any) -> Usage:
    # The SDK's objects use snake_case; the wire (and recorded payloads) camelCase.
    def field(snake: str, camel: str) -> int:
        value = _get(usage, snake)
        return _int(value if value is not None else _get(usage, camel))

    prompt = field("prompt_token_count", "promptTokenCount")
    cached = field("cached_content_token_count", "cachedContentTokenCount")
    thoughts = field("thoughts_token_count", "thoughtsTokenCount")
    candidates = field("candidates_token_count", "candidatesTokenCount")
    return Usage(
        input_uncached=max(prompt - cached, 0),
        cache_read=min(cached, prompt),
        output=candidates + thoughts,
        reasoning=thoughts,
    )
