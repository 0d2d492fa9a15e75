"""A logging filter that blanks credentials out of records from libraries that log URLs.

urllib3 logs every request line at DEBUG, query string included, and ClickUp's token
endpoint takes the client secret and code in the query string."""

from __future__ import annotations

import logging

from integrations.scrubbing import scrub  # not integrations.http: every process loads this


class ScrubSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
