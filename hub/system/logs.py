"""Request paths in log lines, with the secrets some of them carry replaced by ``***``.

Some addresses are credentials: a webhook's ``/hooks/<id>/<secret>``, an invite link, a
password-reset link, and the OAuth callback's query string (a one-time ``code`` and the
``state``). Django's request logger writes the path of every 4xx/5xx answer and gunicorn's
access log writes every request line and referer, so both go through ``scrub_path``: the
``ScrubRequestPaths`` filter (settings.LOGGING) and ``GunicornLogger`` (the Procfile's
``--logger-class``).
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote

from gunicorn.glogging import Logger

# Not integrations.http: gunicorn's master loads this module for its logger class and
# scrubs its own lines, and that seam brings requests and Django (~18 MB) with it.
from integrations.scrubbing import scrub

MARK = "***"
# Request headers that are credentials, as access-log atoms ({name}i) and environ ones ({name}e).
_SECRET_HEADERS = ("x-hook-secret", "authorization", "cookie", "proxy-authorization")
_SECRET_ATOMS = frozenset(
    [f"{{{h}}}i" for h in _SECRET_HEADERS]
    + [f"{{http_{h.replace('-', '_')}}}e" for h in _SECRET_HEADERS]
)

# An atom the access log format names: %(name)s, %({header}i)s …
_ATOM = re.compile(r"%\(([^)]+)\)")

_END = r"/\s?#\"'"  # what ends a path segment in a log line
_SEGMENT = rf"[^{_END}]+"
_PATTERNS = [
    re.compile(rf"(/hooks/{_SEGMENT}/){_SEGMENT}"),
    re.compile(rf"(?<!/members)(/invites/){_SEGMENT}"),
    re.compile(rf"(/password/reset/key/){_SEGMENT}"),
    re.compile(rf"(/connections/{_SEGMENT}/callback/?\?)[^\s#\"']+"),
]


def _scrub(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(rf"\g<1>{MARK}", text)
    return scrub(text)


def scrub_path(text: str) -> str:
    """``text`` with the secrets in any request path or URL it contains replaced.

    Servers decode ``%2F`` and other escapes before routing, so a secret can hide behind
    them in a raw request line; when decoding reveals one, the decoded, scrubbed text is
    what is logged.
    """
    if "%" in text:
        decoded = unquote(text)
        cleaned = _scrub(decoded)
        if cleaned != decoded:
            return cleaned
    return _scrub(text)


class ScrubRequestPaths(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        cleaned = scrub_path(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class GunicornLogger(Logger):
    """gunicorn's logger, writing request lines, paths, query strings and headers scrubbed."""

    def setup(self, cfg):
        super().setup(cfg)
        # The error log names the request line of a request it could not parse or serve.
        self.error_log.addFilter(ScrubRequestPaths())
        # gunicorn looks {header}i and {variable}e atoms up lowercased.
        named = _ATOM.findall(cfg.access_log_format or "")
        self._written = frozenset(k.lower() if k.startswith("{") else k for k in named)

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        # Only the atoms the access log format names are written: scrubbing every header and
        # environ entry (dozens of values, each through every pattern) cost more CPU than the
        # webhook it logged ("Scale" in docs/engine.md).
        for key in self._written & atoms.keys():
            value = atoms[key]
            if key in _SECRET_ATOMS:
                atoms[key] = MARK
            elif isinstance(value, str):
                atoms[key] = scrub_path(value)
        return atoms
