"""Credentials blanked out of URLs and messages before they are logged or shown. Apart from
integrations.http (which brings requests and Django with it) so that gunicorn's master,
whose logger scrubs its own lines, can use it without loading either."""

from __future__ import annotations

import re

_SECRET_QUERY = re.compile(r"(?i)((?:token|secret|code|key|password)=)[^&\s]+")


def scrub(text: str) -> str:
    """Blank out anything in a URL or message that looks like a credential."""
    return _SECRET_QUERY.sub(r"\1***", text)
