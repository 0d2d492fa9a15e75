from __future__ import annotations

import builtins
import contextlib
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.mapping import MappingError, check, references, render
from hub.mapping.filters import FILTERS
from tests.bounded import lines_run

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=50)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=40,
)

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def same(a, b):
    """Equal with the same types all the way down (True is not 1, 1.0 is not 1)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return a == b


@SETTINGS
@given(json_values)
def test_single_reference_round_trips_value_and_type(value):
    data = {"trigger": {"x": value}}
    assert same(render("{{ trigger.x }}", data), value)
    assert same(render({"deep": ["{{trigger.x}}"]}, data), {"deep": [value]})


@SETTINGS
@given(json_values)
def test_config_without_templates_is_unchanged(value):
    # A config whose strings hold no braces renders to itself.
    def has_braces(v):
        if isinstance(v, str):
            return "{{" in v
        if isinstance(v, dict):
            return any(has_braces(k) or has_braces(x) for k, x in v.items())
        if isinstance(v, list):
            return any(has_braces(x) for x in v)
        return False

    if not has_braces(value):
        assert same(render(value, {}), value)


@SETTINGS
@given(st.text(max_size=200).filter(lambda s: "{{" not in s))
def test_literal_text_is_unchanged(text):
    assert render(text, {"trigger": {}}) == text


@SETTINGS
@given(st.text(max_size=200))
def test_arbitrary_text_raises_only_mapping_error(text):
    data = {"trigger": {"subject": "s", "n": 1, "items": [1, 2]}, "steps": {}}
    with contextlib.suppress(MappingError):
        render(text, data)
    with contextlib.suppress(MappingError):
        references(text)
    assert isinstance(check(text, data), list)


template_pieces = st.sampled_from(
    [
        "{{",
        "}}",
        " ",
        "trigger",
        ".",
        "subject",
        "items",
        "0",
        "[",
        "]",
        "|",
        ":",
        ",",
        '"',
        "'",
        "__class__",
        "(",
        ")",
        "*",
        "7",
        "-1",
        "default",
        "upper",
        "truncate",
        "date",
        "split",
        "join",
        "pluck",
        "round",
        "slice",
        "replace",
        "json",
        "%Y",
        "Asia/Seoul",
        "\\",
        "{%",
        "%}",
        *list(FILTERS),
    ]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(template_pieces, max_size=30).map("".join), json_values)
def test_template_like_text_raises_only_mapping_error(text, value):
    data = {"trigger": {"subject": value, "items": [value, {"x": value}]}}
    with contextlib.suppress(MappingError):
        render(text, data)


@SETTINGS
@given(st.text(max_size=50), json_values)
def test_no_evaluation_happens(attack, value):
    called = []
    real_eval, real_exec, real_import = builtins.eval, builtins.exec, builtins.__import__

    def spy(name):
        def wrapper(*args, **kwargs):
            called.append(name)
            return {"eval": real_eval, "exec": real_exec, "import": real_import}[name](
                *args, **kwargs
            )

        return wrapper

    builtins.eval, builtins.exec = spy("eval"), spy("exec")
    try:
        for template in (
            "{{ " + attack + " }}",
            "{{ trigger.x | default:" + attack + " }}",
            "{{ trigger." + attack + " }}",
        ):
            with contextlib.suppress(MappingError):
                render(template, {"trigger": {"x": value}})
    finally:
        builtins.eval, builtins.exec = real_eval, real_exec
    assert called == []


@pytest.mark.parametrize(
    "template",
    [
        "{{ trigger.x" + ".a" * 10_000 + " }}",
        "{{ trigger.x" + " | upper" * 10_000 + " }}",
        "{{" * 50_000,
        "{{ trigger.x | default:'" + "a" * 90_000 + "' }}",
        '{{ trigger.x | default:"' + "\\" * 90_000 + '" }}',
        "{{ '" + "'" * 90_000,
        "[" * 90_000,
        "{{ trigger" + "[0]" * 20_000 + " }}",
    ],
)
def test_adversarial_templates_take_work_linear_in_their_length(template):
    # A fixed number of lines of Python per character at most (about 12 measured).
    lines_run(
        render,
        template,
        {"trigger": {"x": "y"}},
        limit=15 * len(template) + 10_000,
        catch=MappingError,
    )


def test_ten_megabyte_strings_are_refused_without_going_through_them():
    big = "{" * 5_000_000 + "}" * 5_000_000
    for template in (big, "{{ trigger.x }}"):
        result, _ = lines_run(
            render, template, {"trigger": {"x": big}}, limit=1_000, catch=MappingError
        )
        assert result is MappingError


def test_deeply_nested_data_is_bounded():
    value: dict = {}
    node = value
    for _ in range(10_000):
        node["a"] = {}
        node = node["a"]
    # Refused at the depth limit: the work does not grow with the 10,000 levels.
    for template in ("{{ trigger.x }}", "= {{ trigger.x }}"):
        result, _ = lines_run(
            render, template, {"trigger": {"x": value}}, limit=5_000, catch=MappingError
        )
        assert result is MappingError
