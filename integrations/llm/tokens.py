"""Token counts and context windows, for splitting long input before a model refuses it.

``tiktoken`` counts exactly for OpenAI models, but it downloads its encodings from the
internet on first use; where it cannot (an offline server) and for other providers, a safe
estimate is used instead: one token per three bytes of UTF-8, which overestimates English
(about four characters a token) and matches Korean (one token or less per syllable).
"""

from __future__ import annotations

import math
import re
from functools import cache
from typing import Any

# Known context windows (input tokens), by model name prefix; longest prefix wins.
CONTEXT_WINDOWS = {
    "gpt-4.1": 1_047_576,
    "gpt-4o": 128_000,
    "gpt-5": 400_000,
    "o3": 200_000,
    "o4-mini": 200_000,
    "claude-": 200_000,
    "gemini-1.5": 1_048_576,
    "gemini-2": 1_048_576,
    "llama3": 8_192,
    "llama3.1": 128_000,
    "qwen2.5": 32_768,
    "mistral": 32_768,
}
DEFAULT_CONTEXT = 8_192


def context_window(model: str, known: dict[str, Any] | None = None) -> int:
    """The model's input limit: as its provider listed it (kept on the connection), else by
    name, else a small default that is safe for most local models."""
    if known and known.get(model):
        return int(known[model])
    matches = [p for p in CONTEXT_WINDOWS if model.startswith(p)]
    return CONTEXT_WINDOWS[max(matches, key=len)] if matches else DEFAULT_CONTEXT


@cache
def _encoding(model: str) -> Any:
    try:
        import tiktoken

        return tiktoken.encoding_for_model(model)
    except Exception:
        # Unknown to tiktoken, or its encoding file cannot be downloaded here.
        return None


def count(text: str, model: str = "", provider: str = "") -> int:
    if provider == "openai":
        encoding = _encoding(model)
        if encoding is not None:
            return len(encoding.encode(text, disallowed_special=()))
    return math.ceil(len(text.encode()) / 3)


def chunks(text: str, size: int, model: str = "", provider: str = "") -> list[str]:
    """``text`` in pieces of at most ``size`` tokens, split at paragraph, then sentence, then
    word boundaries so no piece ends mid-thought when it can be helped."""
    if count(text, model, provider) <= size:
        return [text]
    pieces: list[str] = []
    current = ""
    for unit in _units(text, size, model, provider):
        joined = f"{current}{unit}"
        if current and count(joined, model, provider) > size:
            pieces.append(current.strip())
            current = unit
        else:
            current = joined
    if current.strip():
        pieces.append(current.strip())
    return pieces


def _units(text: str, size: int, model: str, provider: str) -> list[str]:
    units: list[str] = []
    for paragraph in re.split(r"(?<=\n\n)", text):
        if count(paragraph, model, provider) <= size:
            units.append(paragraph)
            continue
        for sentence in re.split(r"(?<=[.!?。])\s+", paragraph):
            if count(sentence, model, provider) <= size:
                units.append(sentence + " ")
                continue
            words = sentence.split(" ")
            step = max(1, len(words) * size // max(count(sentence, model, provider), 1))
            units += [" ".join(words[i : i + step]) + " " for i in range(0, len(words), step)]
    return units
