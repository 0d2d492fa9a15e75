"""Show a step's input or output as labelled values, so people read data rather than JSON."""

from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

register = template.Library()

MAX_DEPTH = 4
MAX_ITEMS = 50
MAX_TEXT = 2000


def _label(key: object) -> str:
    text = str(key).replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else str(key)


def _scalar(value: object) -> SafeString:
    if value is None or value == "":
        return format_html('<span class="muted">{}</span>', _("(empty)"))
    if value is True:
        return format_html("{}", _("Yes"))
    if value is False:
        return format_html("{}", _("No"))
    text = str(value)
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT] + "…"
    return format_html('<span class="value">{}</span>', text)


def _render(value: object, depth: int) -> SafeString:
    if isinstance(value, dict):
        if not value:
            return format_html('<span class="muted">{}</span>', _("(nothing)"))
        if depth >= MAX_DEPTH:
            return format_html('<span class="muted">{}</span>', _("(more detail in JSON)"))
        items = list(value.items())
        rows = format_html_join(
            "",
            "<dt>{}</dt><dd>{}</dd>",
            ((_label(k), _render(v, depth + 1)) for k, v in items[:MAX_ITEMS]),
        )
        more = _more(len(items))
        return format_html('<dl class="data">{}{}</dl>', rows, more)
    if isinstance(value, list):
        if not value:
            return format_html('<span class="muted">{}</span>', _("(no items)"))
        if depth >= MAX_DEPTH:
            return format_html('<span class="muted">{}</span>', _("(more detail in JSON)"))
        items = format_html_join(
            "", "<li>{}</li>", ((_render(v, depth + 1),) for v in value[:MAX_ITEMS])
        )
        return format_html('<ol class="data">{}{}</ol>', items, _more(len(value)))
    return _scalar(value)


def _more(count: int) -> SafeString:
    if count <= MAX_ITEMS:
        return mark_safe("")
    return format_html(
        '<p class="muted">{}</p>', _("…and %(n)s more (see JSON)") % {"n": count - MAX_ITEMS}
    )


@register.filter
def data_view(value: object) -> SafeString:
    return _render(value, 0)
