"""Public list prices (USD per million tokens) the price table starts with, as published by
the providers in 2025. Admins edit them, or add a row with a later start date when a price
changes (past calls keep the price they were computed with)."""

from __future__ import annotations

START = "2025-01-01"

# (provider, pattern, input, cache read, cache write, output, long threshold, long input,
#  long cache read, long cache write, long output)
PRICES = [
    ("openai", "gpt-4o-mini*", "0.15", "0.075", None, "0.60"),
    ("openai", "gpt-4o*", "2.50", "1.25", None, "10.00"),
    ("openai", "gpt-4.1*", "2.00", "0.50", None, "8.00"),
    ("openai", "gpt-4.1-mini*", "0.40", "0.10", None, "1.60"),
    ("openai", "gpt-4.1-nano*", "0.10", "0.025", None, "0.40"),
    ("openai", "gpt-5*", "1.25", "0.125", None, "10.00"),
    ("openai", "gpt-5-mini*", "0.25", "0.025", None, "2.00"),
    ("openai", "gpt-5-nano*", "0.05", "0.005", None, "0.40"),
    ("openai", "o3*", "2.00", "0.50", None, "8.00"),
    ("openai", "o4-mini*", "1.10", "0.275", None, "4.40"),
    ("anthropic", "claude-opus-4*", "15.00", "1.50", "18.75", "75.00"),
    ("anthropic", "claude-opus-4-5*", "5.00", "0.50", "6.25", "25.00"),
    (
        "anthropic",
        "claude-sonnet-4*",
        "3.00",
        "0.30",
        "3.75",
        "15.00",
        200_000,
        "6.00",
        "0.60",
        "7.50",
        "22.50",
    ),
    ("anthropic", "claude-haiku-4-5*", "1.00", "0.10", "1.25", "5.00"),
    ("anthropic", "claude-3-5-haiku*", "0.80", "0.08", "1.00", "4.00"),
    (
        "gemini",
        "gemini-2.5-pro*",
        "1.25",
        "0.125",
        None,
        "10.00",
        200_000,
        "2.50",
        "0.25",
        None,
        "15.00",
    ),
    ("gemini", "gemini-2.5-flash*", "0.30", "0.03", None, "2.50"),
    ("gemini", "gemini-2.5-flash-lite*", "0.10", "0.01", None, "0.40"),
    ("gemini", "gemini-2.0-flash*", "0.10", "0.025", None, "0.40"),
]

COLUMNS = (
    "provider",
    "model_pattern",
    "input_per_million",
    "cache_read_per_million",
    "cache_write_per_million",
    "output_per_million",
    "long_context_threshold",
    "long_input_per_million",
    "long_cache_read_per_million",
    "long_cache_write_per_million",
    "long_output_per_million",
)


def rows() -> list[dict]:
    return [dict(zip(COLUMNS, row, strict=False)) for row in PRICES]


def seed(model_price) -> None:
    """Add the public list prices to the price table (``model_price``: the ModelPrice model,
    or the migration's historical one); prices already there stay as they are."""
    for row in rows():
        model_price.objects.get_or_create(
            provider=row["provider"],
            model_pattern=row["model_pattern"],
            starts_on=START,
            defaults={**row, "note": "Public list price"},
        )
