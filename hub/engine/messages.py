"""Messages kept for later readers, in the reader's language.

A run's error is read days later, by someone whose language may differ from the worker's
(which has none). So the engine stores what it says as a ``Message``: an English format
string marked with ``gettext_noop`` (the msgid) and its parameters, serialised as JSON
``{"text": …, "params": {…}}`` in a field beside the English text (``Run.error_message``
beside ``Run.error``). The text field keeps the English sentence for the command line, logs
and rows written before messages existed; pages render the JSON in the reader's language
(``{{ run.error_message|translated:run.error }}``, ``hub.web.templatetags.stored_messages``).

A parameter is plain data (text, a number) or another Message, which is translated too. Text
that comes from elsewhere — an app's own error, a step key, a label — is a parameter and is
shown as it is.

Nothing here imports a model, so any layer may build a Message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.utils.translation import gettext_noop

__all__ = ["Message", "gettext_noop", "render", "to_json"]

MAX_PARAM_CHARS = 5000


def _identity(text: str) -> str:
    return text


class Message:
    """``Message(gettext_noop("Step “%(step)s”: %(detail)s"), step="post", detail=…)``"""

    __slots__ = ("params", "text")

    def __init__(self, text: str, params: Mapping[str, Any] | None = None, **more: Any) -> None:
        self.text = str(text)
        self.params = {**(params or {}), **more}

    def __repr__(self) -> str:
        return f"Message({self.text!r}, {self.params!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Message) and (self.text, self.params) == (
            other.text,
            other.params,
        )

    __hash__ = None  # params are a dict

    def render(self, translate: Callable[[str], str] = _identity) -> str:
        """The sentence with its parameters, each msgid passed through ``translate``."""
        values = {
            key: value.render(translate) if isinstance(value, Message) else _plain(value)
            for key, value in self.params.items()
        }
        if not values:
            return translate(self.text)
        try:
            return translate(self.text) % values
        except (KeyError, ValueError, TypeError):
            # A translation that lost a placeholder must not hide the message.
            return self.text % values

    def translated(self) -> str:
        """In the active language (the request's, or English outside one)."""
        from django.utils.translation import gettext

        return self.render(gettext)

    def __str__(self) -> str:
        """English, for logs, the command line and the text column."""
        return self.render()

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "params": {
                key: value.to_json() if isinstance(value, Message) else _stored(value)
                for key, value in self.params.items()
            },
        }

    @classmethod
    def from_json(cls, data: Any) -> Message | None:
        """The Message stored as ``data``, or None when it is not one (an old row, a typo)."""
        if not isinstance(data, dict) or not isinstance(data.get("text"), str):
            return None
        raw = data.get("params")
        params: dict[str, Any] = {}
        for key, value in (raw if isinstance(raw, dict) else {}).items():
            inner = cls.from_json(value) if isinstance(value, dict) else None
            params[str(key)] = inner if inner is not None else _plain(value)
        return cls(data["text"], params)


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _stored(value: Any) -> Any:
    """A parameter as stored: an app's message can be long; the text column is capped too."""
    value = _plain(value)
    if isinstance(value, str) and len(value) > MAX_PARAM_CHARS:
        return value[: MAX_PARAM_CHARS - 1] + "…"
    return value


def to_json(message: Message | str | None) -> dict[str, Any] | None:
    """What goes in a message column: a Message's JSON, None for plain text (shown as is)."""
    return message.to_json() if isinstance(message, Message) else None


def render(stored: Any, fallback: str = "") -> str:
    """A stored message in the active language; ``fallback`` (the text column) when there is
    no message, as on rows written before messages existed."""
    message = Message.from_json(stored)
    if message is None:
        return fallback
    return message.translated()
