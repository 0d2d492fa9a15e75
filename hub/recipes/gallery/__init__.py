"""The templates gallery: ready recipes for the stacks members ask for most.

Each template is a ``toolstack.recipe/1`` file in this folder, with its title and one-line
description here (so they are translated like every other string). A template marks what the
member must choose by leaving it out or empty:

- a step (or app trigger) with no ``connection`` asks for a connection of its app;
- a choice field with live choices (a Slack channel, a Notion database, a model) whose value
  is ``""`` asks the member to pick one.

"Use this template" (hub.web.gallery) asks for exactly those, fills them in and saves the
result as a draft; tests/test_gallery_files.py checks every file against the same rules as
publishing, with each placeholder filled.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.utils.translation import gettext_lazy as _

FOLDER = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Template:
    slug: str
    title: str
    description: str

    @property
    def document(self) -> dict:
        """A fresh copy of the file's recipe: callers fill it in."""
        return json.loads(_text(self.slug))


@cache
def _text(slug: str) -> str:
    return (FOLDER / f"{slug}.json").read_text(encoding="utf-8")


TEMPLATES = (
    Template(
        "important_email_to_task",
        _("Important email → ClickUp task → Slack DM"),
        _("AI reads each important email for who, what and when, files a task and tells you."),
    ),
    Template(
        "notion_item_to_slack",
        _("New Notion database item → Slack"),
        _("Posts every new row of a Notion database to a Slack channel."),
    ),
    Template(
        "daily_clickup_digest",
        _("Weekday 9:00 ClickUp tasks due today → AI digest → Slack"),
        _("Every weekday morning, a short AI summary of today's ClickUp tasks in Slack."),
    ),
    Template(
        "meeting_notes_to_tasks",
        _("Notion meeting notes → AI action items → ClickUp tasks"),
        _("New meeting notes in Notion become one ClickUp task per action item."),
    ),
    Template(
        "email_to_notion_row",
        _("Email → AI extract → Notion database row"),
        _("AI pulls the sender, topic and date out of each email into a Notion database."),
    ),
    Template(
        "content_pipeline",
        _("Content pipeline: AI draft → Notion → Slack review"),
        _("An AI writes a draft, saves it in Notion and asks your team on Slack to review it."),
    ),
)
BY_SLUG = {t.slug: t for t in TEMPLATES}
