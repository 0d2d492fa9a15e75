"""Every Slack action by key, gathered from the modules that hold them."""

from __future__ import annotations

from integrations.slack.actions import SEND_MESSAGE
from integrations.slack.messages import ADD_REACTION, UPDATE_MESSAGE
from integrations.slack.people import FIND_USER_BY_EMAIL, SEND_DIRECT_MESSAGE
from integrations.slack.reading import LIST_MESSAGES

ACTIONS = {
    action.key: action
    for action in (
        SEND_MESSAGE,
        SEND_DIRECT_MESSAGE,
        FIND_USER_BY_EMAIL,
        ADD_REACTION,
        UPDATE_MESSAGE,
        LIST_MESSAGES,
    )
}
