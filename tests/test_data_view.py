from hub.web.templatetags.data_view import MAX_ITEMS, data_view


def test_fields_are_shown_with_readable_labels():
    html = data_view({"channel": "C1", "thread_ts": None, "ok": True})
    assert '<dt>Channel</dt><dd><span class="value">C1</span></dd>' in html
    assert "<dt>Thread ts</dt>" in html
    assert "(empty)" in html
    assert "Yes" in html


def test_values_are_escaped_not_rendered_as_markup():
    html = data_view({"text": "<script>alert(1)</script>"})
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_long_lists_and_deep_nesting_are_cut_short():
    html = data_view({"items": list(range(MAX_ITEMS + 7))})
    assert "…and 7 more" in html
    deep: dict = {"a": {"b": {"c": {"d": {"e": 1}}}}}
    assert "more detail in JSON" in data_view(deep)
