"""Every Notion action by key, gathered from the modules that hold them."""

from __future__ import annotations

from integrations.notion.actions import GET_ME
from integrations.notion.database import (
    CREATE_DATABASE_ITEM,
    FIND_OR_CREATE_DATABASE_ITEM,
    UPDATE_DATABASE_ITEM,
)
from integrations.notion.finding import FIND_DATABASE_ITEMS
from integrations.notion.pages import APPEND_TO_PAGE, ARCHIVE_PAGE, GET_PAGE_CONTENT

ACTIONS = {
    action.key: action
    for action in (
        GET_ME,
        GET_PAGE_CONTENT,
        APPEND_TO_PAGE,
        ARCHIVE_PAGE,
        CREATE_DATABASE_ITEM,
        UPDATE_DATABASE_ITEM,
        FIND_DATABASE_ITEMS,
        FIND_OR_CREATE_DATABASE_ITEM,
    )
}
