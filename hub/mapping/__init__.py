"""The data language of recipes: step inputs as templates over plain JSON data, value
conversion, and structured conditions.

A template is text with references in double braces::

    Hello {{ trigger.sender.name }}, your order {{ steps.order.items.0.sku | upper }} shipped.

A reference is a path into the run's data — a root name (``trigger``, ``steps``, ``loop``,
``run``, whatever the caller provides), then keys and list indexes joined by dots
(``items.0.name``) or in brackets (``items[0]``, ``properties["Due date"]`` for keys with
spaces) — followed by filters separated by ``|``, with arguments after ``:`` (numbers, quoted
text, or bare words, separated by commas).

It is data only, on purpose: lookups go into ``dict`` and ``list`` values and nowhere else.
There is no attribute access, no call, no arithmetic and no evaluation of anything a member
typed; the parser below accepts paths and filter names and refuses everything else.

A string that is exactly one reference keeps the value's type (a list stays a list). A string
with text around its references becomes text: lists and dicts as compact JSON, ``null`` as
nothing, booleans as ``true``/``false``.

Filters (``filters.FILTERS`` holds the same table; ``filter_docs()`` gives it to the editor):

==================  ==========================================================================
``default:x``       ``x`` when the path is missing, null or empty text; filters before it are
                    skipped for a missing path, so ``a | upper | default:"-"`` works
``upper``           text in capitals
``lower``           text in small letters
``trim``            text without spaces and line breaks at either end
``title``           Text With Each Word Capitalised
``truncate:n``      at most ``n`` characters, ending with "…" when shortened
``replace:a,b``     every ``a`` replaced with ``b`` (``b`` may be left out to remove ``a``)
``split:sep``       text cut into a list at each ``sep`` (at spaces when no ``sep`` is given)
``join:sep``        a list joined into text with ``sep`` between items (default ", ")
``first``           the first item of a list (or first character of text)
``last``            the last item of a list (or last character of text)
``length``          how many items in a list, characters in text, or keys in an object
``slice:a,b``       items (or characters) from position ``a`` up to, not including, ``b``
``round:n``         a number rounded to ``n`` decimals (default 0), halves rounded up
``number``          text such as "1,234.50" read as a number
``text``            any value as text
``json``            any value as compact JSON text
``date:fmt,tz``     a date (ISO-8601 text, or Unix seconds or milliseconds) written with a
                    strftime pattern (default ISO-8601) in an IANA time zone (default UTC);
                    times without an offset are taken to be in that zone
``lines``           text cut into a list of its non-empty lines
``strip_html``      text with HTML tags removed and entities such as ``&amp;`` decoded
``urlencode``       text made safe to put in a URL
``pluck:key``       from a list of objects, the list of their ``key`` values (``key`` may be
                    a dotted path)
==================  ==========================================================================

Everything is bounded: template length, references per template, filters per reference,
config nesting, nesting of values produced, the size of what one ``render`` produces, and
the work its filters do (``MAX_WORK_CHARS``: the characters or items each filter goes through
plus what it writes, summed over every field of the config — a hundred filters over a 1 MB
value are refused, not run).
Going over a limit, like any other problem, raises ``MappingError`` with a message a member
can act on.

Where things live: ``parsing`` reads templates, ``rendering`` fills them in, ``checking``
follows them through sample data at publish time, ``filters`` holds the filter table, ``budget``
the bounds, ``values`` value conversion and lookups, ``errors`` the one error type, and
``conditions`` the structured conditions of filter and paths steps (used as
``conditions.evaluate``). What callers need is imported from here; the modules are the
package's own business.

This package sits below everything that uses it — the engine, recipes and integrations —
and imports nothing from ``hub`` or ``integrations`` (the import-linter contracts keep it
so).
"""

from hub.mapping import conditions
from hub.mapping.checking import OpenObject, Reference, check, references
from hub.mapping.errors import MappingError
from hub.mapping.filters import filter_docs
from hub.mapping.rendering import render
from hub.mapping.values import parse_datetime, strip_html, to_text, zone

__all__ = [
    "MappingError",
    "OpenObject",
    "Reference",
    "check",
    "conditions",
    "filter_docs",
    "parse_datetime",
    "references",
    "render",
    "strip_html",
    "to_text",
    "zone",
]
