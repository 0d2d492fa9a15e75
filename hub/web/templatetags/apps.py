"""The name people know an app by, from its slug (``{{ "gmail"|app_name }}`` → Gmail)."""

from __future__ import annotations

from django import template

from integrations import registry
from integrations.base import IntegrationError

register = template.Library()


@register.filter
def app_name(slug: object) -> str:
    try:
        return registry.get(str(slug)).name or str(slug)
    except IntegrationError:
        return str(slug)
