"""Every ClickUp action by key, gathered from the modules that hold them."""

from __future__ import annotations

from integrations.clickup.actions import GET_USER
from integrations.clickup.find_or_create import FIND_OR_CREATE_TASK
from integrations.clickup.finding import FIND_TASKS
from integrations.clickup.people import FIND_MEMBER_BY_EMAIL
from integrations.clickup.tasks import ADD_COMMENT, CREATE_TASK
from integrations.clickup.updating import UPDATE_TASK

ACTIONS = {
    action.key: action
    for action in (
        GET_USER,
        FIND_MEMBER_BY_EMAIL,
        CREATE_TASK,
        UPDATE_TASK,
        FIND_OR_CREATE_TASK,
        ADD_COMMENT,
        FIND_TASKS,
    )
}
