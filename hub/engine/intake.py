"""Trigger data from outside the hub (a webhook body, "Run now" test data, `recipes run
--data`) read as strict JSON.

Python's parser accepts ``NaN``, ``Infinity`` and ``-Infinity`` and turns ``1e999`` into
``inf``; none of them is JSON, the database refuses to store them, and the mapping language
cannot compute with them. They are refused here with a reason the sender can act on.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

from django.utils.translation import gettext as _


class NotFiniteNumber(ValueError):
    """A number JSON cannot carry; ``str()`` says which and what to send instead."""


def _constant(text: str):
    raise NotFiniteNumber(
        _(
            "%(value)s is not a number JSON can carry: send a finite number, null, or the "
            'text "%(value)s" in quotes.'
        )
        % {"value": text}
    )


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise NotFiniteNumber(
            _(
                "%(value)s is too large to be a finite number: send a smaller number, or the "
                'text "%(value)s" in quotes.'
            )
            % {"value": text}
        )
    return value


def _int(text: str) -> int:
    digits = len(text.lstrip("-"))
    # Past this length int() refuses with advice about sys; say what the sender can do.
    if digits > sys.get_int_max_str_digits():
        raise NotFiniteNumber(
            _("A number with %(digits)d digits is too long to read: send it as text in quotes.")
            % {"digits": digits}
        )
    return int(text)


def parse_data(text: str | bytes) -> Any:
    """The JSON value of ``text``; a ``ValueError`` (bad syntax, bad UTF-8, a non-finite or
    unreadable number) says what is wrong."""
    return json.loads(text, parse_constant=_constant, parse_float=_float, parse_int=_int)
