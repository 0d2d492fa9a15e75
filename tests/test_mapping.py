from __future__ import annotations

import pytest

from hub.mapping import (
    MappingError,
    Reference,
    check,
    filter_docs,
    references,
    render,
)
from hub.mapping.filters import FILTERS
from tests.bounded import lines_run

DATA = {
    "trigger": {
        "subject": "Invoice 42 from ACME",
        "count": 3,
        "price": 1234.5,
        "flag": True,
        "nothing": None,
        "empty": "",
        "sender": {"name": "Ada Lovelace", "email": "ada@example.com"},
        "items": [{"name": "bolt", "qty": 2}, {"name": "nut", "qty": 5}],
        "tags": ["a", "b", "c"],
        "properties": {"Due date": "2024-05-01T09:30:00Z"},
        "html": "<p>Hello <b>there</b> &amp; welcome</p><script>alert(1)</script>",
        "text": "line one\n\n  line two  \n",
        "when_ms": 1714555800000,
        "when_s": 1714555800,
    },
    "steps": {"summarize": {"text": "A long summary " * 20}, "list": {"items": [{"id": 7}]}},
    "loop": {"item": {"id": 1}, "index": 0},
}


def r(template, data=DATA):
    return render(template, data)


# ---------------------------------------------------------------- references and types


def test_single_reference_keeps_type():
    assert r("{{ trigger.items }}") == DATA["trigger"]["items"]
    assert r("{{ trigger.count }}") == 3
    assert r("{{trigger.flag}}") is True
    assert r("{{ trigger.nothing }}") is None
    assert r("  {{ trigger.count }}  ") == "  3  "


def test_single_reference_returns_a_copy():
    out = r("{{ trigger.items }}")
    out[0]["name"] = "changed"
    assert DATA["trigger"]["items"][0]["name"] == "bolt"


def test_text_around_references_renders_text():
    assert r("n={{ trigger.count }} f={{ trigger.flag }} x={{ trigger.nothing }}.") == (
        "n=3 f=true x=."
    )
    assert r("{{ trigger.tags }}!") == '["a","b","c"]!'
    assert r("{{ trigger.sender }}!") == '{"name":"Ada Lovelace","email":"ada@example.com"}!'
    assert r("{{ trigger.price }} {{ trigger.count }}") == "1234.5 3"


def test_list_indexes_both_spellings():
    assert r("{{ steps.list.items.0.id }}") == 7
    assert r("{{ steps.list.items[0].id }}") == 7
    assert r("{{ trigger.items[-1].name }}") == "nut"
    assert r("{{ trigger.items.-1.name }}") == "nut"


def test_quoted_keys_for_names_with_spaces():
    assert r('{{ trigger.properties["Due date"] }}') == "2024-05-01T09:30:00Z"
    assert r("{{ trigger.properties['Due date'] }}") == "2024-05-01T09:30:00Z"


def test_any_top_level_name():
    assert r("{{ loop.item.id }} of {{ loop.index }}") == "1 of 0"
    assert render("{{ run.id }}", {"run": {"id": 9}}) == 9


def test_literal_text_unchanged():
    for text in ["plain", "", "a } b", "}} alone", "{ single }", "{% import os %}", "50% off"]:
        assert r(text) == text


def test_walks_config_structures():
    config = {
        "channel": "C1",
        "blocks": [{"text": "{{ trigger.subject | upper }}"}, 5, None, True, 1.5],
        "meta": {"count": "{{ trigger.count }}"},
    }
    assert r(config) == {
        "channel": "C1",
        "blocks": [{"text": "INVOICE 42 FROM ACME"}, 5, None, True, 1.5],
        "meta": {"count": 3},
    }


def test_quoted_braces_inside_filter_arguments():
    assert r('{{ trigger.nothing | default:"}}" }}') == "}}"


# ---------------------------------------------------------------- errors


def err(template, data=DATA, **kw):
    with pytest.raises(MappingError) as info:
        render(template, data, **kw)
    return str(info.value)


def test_unknown_path_suggests_and_names_step_and_field():
    message = err({"text": "{{ steps.sumarize.text }}"}, step="notify")
    assert message == (
        "Step “notify”, field “text”: there is no “steps.sumarize” — "
        "did you mean “steps.summarize”?"
    )


def test_unknown_path_error_carries_field():
    with pytest.raises(MappingError) as info:
        render({"blocks": [{"text": "{{ trigger.nope }}"}]}, DATA)
    assert info.value.field == "blocks.0.text"
    assert "default" in info.value.message


def test_default_handles_missing_null_and_empty():
    assert r('{{ trigger.nope | default:"n/a" }}') == "n/a"
    assert r("{{ trigger.nothing | default:0 }}") == 0
    assert r('{{ trigger.empty | default:"-" }}') == "-"
    assert r('{{ trigger.nope.deeper.still | upper | default:"x" }}') == "x"
    assert r('{{ trigger.subject | default:"x" }}') == "Invoice 42 from ACME"


def test_wrong_shape_messages():
    assert "is a list" in err("{{ trigger.items.name }}")
    assert "has 2 items" in err("{{ trigger.items.5 }}")
    assert "is text" in err("{{ trigger.subject.length }}")
    assert "is empty" in err("{{ trigger.nothing.x }}")


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__ }}",
        "{{ trigger.__class__.__mro__ }}",
        "{{ trigger.__init__ }}",
        "{{ trigger.__dict__ }}",
        "{{ 7*7 }}",
        "{{ trigger.x() }}",
        "{{ trigger['a'] }}",
        "{{ trigger.subject + 1 }}",
        "{{ __import__('os').system('echo hi') }}",
        "{{ trigger.subject | upper() }}",
        "{{ trigger.subject | attr:'__class__' }}",
        "{{ trigger.subject | format }}",
        "{{ lipsum.__globals__ }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{{ config.items() }}",
        "{{ self }}",
        "{{ request }}",
        "{{ }}",
        "{{ trigger",
        "{{ trigger.subject | truncate:'a' }}",
        "{{ trigger.subject | }}",
        "{{ {{ trigger.subject }} }}",
        "{{ trigger..subject }}",
    ],
)
def test_injection_attempts_are_refused(template):
    with pytest.raises(MappingError):
        render(template, DATA)


def test_refused_data_objects_are_never_touched():
    class Boom:
        def __getattr__(self, name):
            raise AssertionError("attribute access happened")

        def __getitem__(self, key):
            raise AssertionError("item access happened")

    data = {"trigger": {"obj": Boom()}}
    with pytest.raises(MappingError):
        render("{{ trigger.obj.anything }}", data)
    with pytest.raises(MappingError):
        render("{{ trigger.obj }}", data)


def test_jinja_tags_are_literal_text():
    assert r("{% import os %}{{ trigger.count }}") == "{% import os %}3"


def test_unknown_filter_suggests():
    message = err("{{ trigger.subject | uper }}")
    assert "there is no filter “uper” — did you mean “upper”?" in message


def test_filter_arity_is_checked():
    assert "takes 1 argument" in err("{{ trigger.subject | truncate }}")
    assert "takes no arguments" in err("{{ trigger.subject | upper:1 }}")


# ---------------------------------------------------------------- filters


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ trigger.subject | upper }}", "INVOICE 42 FROM ACME"),
        ("{{ trigger.subject | lower }}", "invoice 42 from acme"),
        ("{{ '  x ' }}", None),
        ("{{ trigger.sender.name | title }}", "Ada Lovelace"),
        ("{{ trigger.subject | truncate:10 }}", "Invoice 4…"),
        ("{{ trigger.subject | truncate:100 }}", "Invoice 42 from ACME"),
        ('{{ trigger.subject | replace:"ACME","Acme Inc" }}', "Invoice 42 from Acme Inc"),
        ("{{ trigger.subject | replace:ACME }}", "Invoice 42 from "),
        ("{{ trigger.subject | split }}", ["Invoice", "42", "from", "ACME"]),
        ('{{ trigger.subject | split:" " | last }}', "ACME"),
        ('{{ trigger.tags | join:"-" }}', "a-b-c"),
        ("{{ trigger.tags | join }}", "a, b, c"),
        ("{{ trigger.tags | first }}", "a"),
        ("{{ trigger.tags | last }}", "c"),
        ("{{ trigger.tags | length }}", 3),
        ("{{ trigger.subject | length }}", 20),
        ("{{ trigger.tags | slice:1 }}", ["b", "c"]),
        ("{{ trigger.subject | slice:0,7 }}", "Invoice"),
        ("{{ trigger.price | round }}", 1235),
        ("{{ trigger.price | round:1 }}", 1234.5),
        ('{{ "x" }}', None),
        ("{{ trigger.count | text }}", "3"),
        ("{{ trigger.tags | json }}", '["a","b","c"]'),
        ("{{ trigger.text | lines }}", ["line one", "line two"]),
        ("{{ trigger.html | strip_html }}", "Hello there & welcome"),
        ("{{ trigger.sender.email | urlencode }}", "ada%40example.com"),
        ("{{ trigger.items | pluck:name }}", ["bolt", "nut"]),
        ("{{ trigger.items | pluck:qty | join:'+' }}", "2+5"),
        ('{{ trigger.properties["Due date"] | date }}', "2024-05-01T09:30:00+00:00"),
        (
            '{{ trigger.properties["Due date"] | date:"%Y-%m-%d %H:%M",Asia/Seoul }}',
            "2024-05-01 18:30",
        ),
        ('{{ trigger.when_ms | date:"%Y-%m-%d %H:%M","Asia/Seoul" }}', "2024-05-01 18:30"),
        ('{{ trigger.when_s | date:"%H:%M" }}', "09:30"),
        ('{{ trigger.properties["Due date"] | date:"%d %b" }}', "01 May"),
    ],
)
def test_filters(template, expected):
    if expected is None:
        with pytest.raises(MappingError):
            r(template)
    else:
        assert r(template) == expected


def test_number_and_round_half_up():
    data = {"t": {"a": "1,234.50", "b": "2.5", "c": " -7 ", "d": "abc"}}
    assert render("{{ t.a | number }}", data) == 1234.5
    assert render("{{ t.b | number | round }}", data) == 3
    assert render("{{ t.c | number }}", data) == -7
    with pytest.raises(MappingError, match="is not a number"):
        render("{{ t.d | number }}", data)


def test_naive_date_is_taken_in_the_given_zone():
    data = {"t": {"d": "2024-05-01"}}
    assert render('{{ t.d | date:"%Y-%m-%d","America/New_York" }}', data) == "2024-05-01"
    with pytest.raises(MappingError, match="not a time zone"):
        render('{{ t.d | date:"%Y",Mars/Olympus }}', data)
    with pytest.raises(MappingError, match="not a date"):
        render('{{ t.d | date:"%Y" }}', {"t": {"d": "yesterday"}})


def test_filter_registry_is_documented():
    docs = filter_docs()
    assert [d["name"] for d in docs] == list(FILTERS)
    for name in ("default", "truncate", "date", "pluck", "strip_html", "urlencode"):
        assert name in FILTERS
    assert all(d["help"] and d["usage"] for d in docs)


# ---------------------------------------------------------------- references() and check()


def test_references_lists_every_path_with_its_field():
    config = {
        "text": "Hi {{ trigger.sender.name }}, {{ steps.summarize.text | truncate:10 }}",
        "blocks": [{"x": "{{ steps.list.items[0].id | default:0 }}"}],
        "n": 5,
    }
    refs = references(config)
    assert refs == [
        Reference("text", ("trigger", "sender", "name"), "trigger.sender.name"),
        Reference(
            "text",
            ("steps", "summarize", "text"),
            "steps.summarize.text | truncate:10",
            ("truncate",),
        ),
        Reference(
            "blocks.0.x",
            ("steps", "list", "items", 0, "id"),
            "steps.list.items[0].id | default:0",
            ("default",),
            True,
        ),
    ]
    assert refs[1].step == "summarize"
    assert refs[0].step is None
    assert refs[2].dotted == "steps.list.items.0.id"


def test_references_raises_on_syntax_error_with_field():
    with pytest.raises(MappingError) as info:
        references({"a": {"b": "{{ 7*7 }}"}})
    assert info.value.field == "a.b"


KNOWN = {
    "trigger": {"subject": "Hello", "items": [{"name": "x"}], "raw": None},
    "steps": {"summarize": {"text": "…"}},
}


def test_check_accepts_valid_paths():
    config = {
        "a": "{{ trigger.subject }} {{ trigger.items.3.name }} {{ steps.summarize.text }}",
        "b": "{{ trigger.raw.anything.below }}",
    }
    assert check(config, KNOWN) == []


def test_check_reports_every_problem_clearly():
    config = {
        "text": "{{ steps.sumarize.text }}",
        "other": "{{ steps.later.text }} {{ trigger.items.0.nme }}",
        "bad": "{{ trigger.subject | nope }}",
        "ok": "{{ trigger.missing | default:'' }}",
        "list": "{{ trigger.items.name }}",
    }
    errors = check(config, KNOWN, step="notify", later_steps=["later"])
    messages = [str(e) for e in errors]
    assert messages == [
        "Step “notify”, field “text”: there is no “steps.sumarize” — "
        "did you mean “steps.summarize”?",
        "Step “notify”, field “other”: “steps.later” runs after this step; "
        "a step can only use data from steps before it",
        "Step “notify”, field “other”: there is no “trigger.items.0.nme” — "
        "did you mean “trigger.items.0.name”?",
        "Step “notify”, field “bad”: there is no filter “nope”",
        "Step “notify”, field “list”: “trigger.items” is a list; use a position such as "
        "“trigger.items.0”, not “name”",
    ]


def test_check_unknown_step():
    (error,) = check({"x": "{{ steps.ghost.text }}"}, KNOWN, step="s")
    assert "there is no step “ghost” before this one" in str(error)


# ---------------------------------------------------------------- limits


def fast(fn, *args, lines=5_000):
    """fn(*args), or MappingError if it raised one; it must run fewer than ``lines`` lines of
    Python however large the data (bounded work, not a time limit)."""
    result, _ = lines_run(fn, *args, limit=lines, catch=MappingError)
    return result


def test_template_length_capped():
    assert fast(render, "x" * 200_000, DATA) is MappingError


def test_reference_count_capped():
    assert fast(render, "{{ trigger.count }}" * 101, DATA, lines=100 * 300) is MappingError
    # A fixed cost per reference.
    assert fast(render, "{{ trigger.count }}" * 100, DATA, lines=100 * 300) == "3" * 100


def test_output_size_capped():
    big = {"t": {"s": "x" * 600_000}}
    assert fast(render, "{{ t.s }}{{ t.s }}", big) is MappingError
    assert fast(render, {"a": "{{ t.s }}", "b": "{{ t.s }}"}, big) is MappingError
    assert fast(render, "{{ t.s | truncate:5 }}", big) == "xxxx…"


def test_huge_string_data_is_fine_through_filters():
    data = {"t": {"s": "a" * 10_000_000}}
    assert fast(render, "{{ t.s | length }}", data) == 10_000_000
    assert fast(render, "{{ t.s | truncate:3 }}", data) == "aa…"
    assert fast(render, "{{ t.s }}", data) is MappingError
    assert fast(render, '{{ t.s | replace:"a","bb" | length }}', data) is MappingError
    assert fast(render, '{{ t.s | split:"a" | length }}', data) is MappingError
    assert fast(render, "{{ t.s | strip_html | length }}", {"t": {"s": "<" * 1_000_000}}) == (
        1_000_000
    )


def test_deep_data_and_deep_config():
    deep: list = []
    node = deep
    for _ in range(10_000):
        child: list = []
        node.append(child)
        node = child
    data = {"t": {"deep": deep}}
    assert fast(render, "{{ t.deep }}", data) is MappingError
    assert fast(render, "x {{ t.deep }}", data) is MappingError
    assert fast(render, "{{ t.deep | json }}", data) is MappingError
    assert fast(render, "{{ t.deep | length }}", data) == 1
    assert fast(render, "{{ t.deep" + ".0" * 48 + " | length }}", data, lines=10_000) == 1
    assert fast(render, deep, data) is MappingError
    assert fast(references, deep) is MappingError
    assert fast(check, deep, KNOWN)


def test_many_config_nodes_capped():
    # Stops at the node limit: a fixed cost per node up to it, none for the rest.
    assert fast(render, list(range(20_000)), DATA, lines=25 * 10_000) is MappingError


def test_non_json_config_is_refused():
    with pytest.raises(MappingError):
        render({"a": object()}, DATA)
