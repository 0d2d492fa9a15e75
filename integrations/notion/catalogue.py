"""Every Notion action by key, gathered from the modules that hold them."""

from __future__ import annotations

from integrations.notion.actions import GET_ME
from integrations.notion.pages import APPEND_TO_PAGE, ARCHIVE_PAGE, GET_PAGE_CONTENT

ACTIONS = {
    action.key: action for action in (GET_ME, GET_PAGE_CONTENT, APPEND_TO_PAGE, ARCHIVE_PAGE)
}
