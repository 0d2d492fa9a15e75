from __future__ import annotations

import sys

import pytest

from integrations.base import Context, IntegrationError
from integrations.builtin.formatter import ACTION, MAX_INPUT_CHARS, OPERATIONS


def fmt(operation, **config):
    return ACTION.run(Context(workspace_id=1, config={"operation": operation, **config}))["output"]


@pytest.mark.parametrize(
    ("operation", "config", "expected"),
    [
        ("text_upper", {"input": "abc"}, "ABC"),
        ("text_lower", {"input": "ABC"}, "abc"),
        ("text_title", {"input": "hello world"}, "Hello World"),
        ("text_trim", {"input": "  x \n"}, "x"),
        ("text_replace", {"input": "a-b-c", "find": "-", "replace_with": "+"}, "a+b+c"),
        ("text_replace", {"input": "a-b-c", "find": "-"}, "abc"),
        ("text_truncate", {"input": "abcdefgh", "length": 5}, "abcd…"),
        ("text_truncate", {"input": "abc", "length": 5}, "abc"),
        ("text_split", {"input": "a, b,c", "separator": ","}, ["a", " b", "c"]),
        ("text_split", {"input": "a b  c"}, ["a", "b", "c"]),
        (
            "text_extract_email",
            {"input": "From: Ada <ada.l+x@mail.example.com>."},
            "ada.l+x@mail.example.com",
        ),
        ("text_extract_email", {"input": "no email @ here"}, None),
        (
            "text_extract_url",
            {"input": "see (https://example.com/a?b=1)."},
            "https://example.com/a?b=1",
        ),
        ("text_extract_url", {"input": "nothing"}, None),
        ("text_extract_number", {"input": "Total: 1,234.50 USD"}, 1234.5),
        ("text_extract_number", {"input": "Order 42"}, 42),
        ("text_extract_number", {"input": "none"}, None),
        ("text_word_count", {"input": "one two  three\nfour"}, 4),
        ("text_strip_html", {"input": "<p>Hi &amp; <b>bye</b></p>"}, "Hi & bye"),
        ("text_default", {"input": " ", "default_value": "n/a"}, "n/a"),
        ("text_default", {"input": "x", "default_value": "n/a"}, "x"),
        ("number_format", {"input": "1234567.891"}, "1,234,567.89"),
        ("number_format", {"input": -1234.5, "decimals": 0, "thousands_separator": "."}, "-1.235"),
        (
            "number_format",
            {
                "input": "1234.5",
                "decimals": 2,
                "thousands_separator": " ",
                "decimal_separator": ",",
            },
            "1 234,50",
        ),
        ("number_round", {"input": "2.5"}, 3),
        ("number_round", {"input": 2.345, "decimals": 2}, 2.35),
        ("number_add", {"input": "0.1", "other_number": "0.2"}, 0.3),
        ("number_add", {"input": "$1,000", "other_number": 5}, 1005),
        ("number_subtract", {"input": 10, "other_number": "2.5"}, 7.5),
        ("number_multiply", {"input": "3", "other_number": "4"}, 12),
        ("number_divide", {"input": 10, "other_number": 4}, 2.5),
        ("number_divide", {"input": 1, "other_number": 3, "decimals": 2}, 0.33),
        ("number_percent", {"input": 25, "other_number": 200}, 12.5),
        ("date_parse", {"input": 1714555800}, "2024-05-01T09:30:00+00:00"),
        (
            "date_parse",
            {"input": "1714555800000", "timezone": "Asia/Seoul"},
            "2024-05-01T18:30:00+09:00",
        ),
        (
            "date_format",
            {
                "input": "2024-05-01T09:30:00Z",
                "pattern": "%d.%m.%Y %H:%M",
                "timezone": "Asia/Seoul",
            },
            "01.05.2024 18:30",
        ),
        ("date_format", {"input": "2024-05-01 09:30"}, "2024-05-01 09:30"),
        (
            "date_add",
            {"input": "2024-05-01T09:00:00Z", "amount": 2, "unit": "hours"},
            "2024-05-01T11:00:00+00:00",
        ),
        (
            "date_add",
            {
                "input": "2024-03-09T09:00",
                "amount": 1,
                "unit": "days",
                "timezone": "America/New_York",
            },
            "2024-03-10T09:00:00-04:00",
        ),
        (
            "date_subtract",
            {"input": "2024-05-01", "amount": 1, "unit": "weeks"},
            "2024-04-24T00:00:00+00:00",
        ),
        (
            "date_convert_timezone",
            {
                "input": "2024-05-01T09:00:00",
                "timezone": "Asia/Seoul",
                "to_timezone": "Europe/Paris",
            },
            "2024-05-01T02:00:00+02:00",
        ),
    ],
)
def test_operations(operation, config, expected):
    assert fmt(operation, **config) == expected


@pytest.mark.parametrize(
    ("operation", "config", "words"),
    [
        ("nope", {}, "Choose what to do"),
        ("number_add", {"input": "abc", "other_number": 1}, "“abc” is not a number"),
        ("number_add", {"input": "1"}, "The second number is empty"),
        ("number_divide", {"input": 1, "other_number": 0}, "divided by 0"),
        ("number_round", {"input": "1", "decimals": 99}, "Decimals"),
        ("date_format", {"input": "tomorrow"}, "is not a date"),
        ("date_format", {"input": "2024-05-01", "timezone": "Mars/Base"}, "not a time zone"),
        ("date_add", {"input": "2024-05-01", "amount": 1, "unit": "fortnights"}, "not a unit"),
        ("date_add", {"input": "2024-05-01", "amount": 10**9, "unit": "days"}, "100 years"),
        ("text_replace", {"input": "abc"}, "Find"),
        ("text_replace", {"input": "a" * 500_000, "find": "a", "replace_with": "bbb"}, "longer"),
        ("text_upper", {"input": "x" * 2_000_000}, "longer"),
    ],
)
def test_bad_input_is_a_permanent_error(operation, config, words):
    with pytest.raises(IntegrationError) as info:
        fmt(operation, **config)
    assert info.value.permanent
    assert words in info.value.message


def test_arithmetic_is_not_evaluation():
    with pytest.raises(IntegrationError):
        fmt("number_add", input="__import__('os')", other_number="1")
    with pytest.raises(IntegrationError):
        fmt("number_add", input="2*3", other_number="1")


def lines_run(operation: str, text: str) -> tuple[object, int]:
    """The result of the operation on ``text`` and how many lines of the formatter's Python it ran:
    a measure of work that a busy machine does not change, unlike seconds."""
    from hub.mapping import values
    from integrations.builtin import formatter

    watched = {formatter.__file__, values.__file__}
    count = 0

    def local(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
        return local

    def calls(frame, event, arg):
        return local if frame.f_code.co_filename in watched else None

    previous = sys.gettrace()
    sys.settrace(calls)
    try:
        result = fmt(operation, input=text)
    finally:
        sys.settrace(previous)
    return result, count


HOSTILE = [
    ("text_extract_email", lambda n: "a" * n + "@" + "b" * n, None),
    ("text_extract_email", lambda n: "@a" * n, None),
    ("text_extract_url", lambda n: "http://" * n, None),
    ("text_extract_number", lambda n: "1," * n, 1),
    ("text_extract_number", lambda n: "x" * n + "1,234,567", 1234567),
    ("text_strip_html", lambda n: "<" * n, None),
]


@pytest.mark.parametrize(("operation", "hostile", "expected"), HOSTILE)
def test_extraction_is_linear_on_hostile_text(operation, hostile, expected):
    """Doubling a hostile input at most doubles the work (a quadratic scan would quadruple
    it), and the largest accepted input still gives the right answer."""
    _, work_small = lines_run(operation, hostile(2_000))
    _, work_large = lines_run(operation, hostile(4_000))
    assert work_large <= 2.2 * work_small + 50
    biggest = hostile(MAX_INPUT_CHARS // 10)
    result = fmt(operation, input=biggest)
    if operation == "text_extract_url":
        assert result.startswith("http://")
    elif operation == "text_strip_html":
        assert result == biggest
    else:
        assert result == expected


def test_text_past_the_size_cap_is_refused():
    with pytest.raises(IntegrationError) as info:
        fmt("text_extract_email", input="a" * (MAX_INPUT_CHARS + 1))
    assert info.value.permanent
    assert f"{MAX_INPUT_CHARS:,}" in info.value.message


def test_every_operation_is_a_choice():
    choices = {c.value for c in ACTION.field("operation").choices}
    assert choices == set(OPERATIONS)
    assert ACTION.outputs[0].key == "output"
