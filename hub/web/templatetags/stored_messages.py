"""Stored messages in the reader's language: ``{{ run.error_message|translated:run.error }}``
renders the Message kept in a JSON column, or the text column when there is none (rows
written before messages existed, text that came from an app)."""

from __future__ import annotations

from django import template

from hub.engine import messages

register = template.Library()


@register.filter
def translated(stored, fallback="") -> str:
    return messages.render(stored, fallback or "")
