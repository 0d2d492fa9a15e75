"""The triggers that need no app: by hand, from a webhook, on a schedule.

Each is an integration of its own, so a recipe file names it as the trigger's app
(``{"app": "manual"}``, ``{"app": "webhook", "event": "catch"}``, ``{"app": "schedule",
"event": "daily", "config": {"at": "09:00"}}``) and the registry lists every trigger there is.
The engine fires them (``hub.engine``: Run now, webhook intake, the schedule tick); these
declarations are what the editor shows and what publishing checks.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from integrations.base import Choice, Field, Integration, OutputField, Trigger

WEEKDAY_CHOICES = tuple(
    Choice(value, label)
    for value, label in (
        ("mon", _("Monday")),
        ("tue", _("Tuesday")),
        ("wed", _("Wednesday")),
        ("thu", _("Thursday")),
        ("fri", _("Friday")),
        ("sat", _("Saturday")),
        ("sun", _("Sunday")),
    )
)

_TIMEZONE = Field(
    "timezone",
    _("Time zone"),
    help=_(
        "Where the times are meant, such as Asia/Seoul. The workspace's time zone when left empty."
    ),
)
_AT = Field("at", _("At"), required=True, help=_("A time of day, such as 09:30."))
_SCHEDULE_OUTPUTS = (
    OutputField("scheduled_at", _("When it was due"), kind="date"),
    OutputField("fired_at", _("When it fired"), kind="date"),
    OutputField("timezone", _("Time zone")),
)
_SCHEDULE_SAMPLE = {
    "scheduled_at": "2025-01-01T09:00:00+00:00",
    "fired_at": "2025-01-01T09:00:01+00:00",
    "timezone": "UTC",
}


def _schedule(key: str, label, fields: tuple[Field, ...], help_text="") -> Trigger:
    return Trigger(
        key=key,
        label=label,
        fields=(*fields, _TIMEZONE),
        outputs=_SCHEDULE_OUTPUTS,
        sample=_SCHEDULE_SAMPLE,
        help=help_text,
    )


class ManualIntegration(Integration):
    slug = "manual"
    name = "Run now"
    triggers = {
        "run": Trigger(
            key="run",
            label=_("When someone clicks Run now"),
            help=_("Runs when a member starts it, with test data if they give some."),
            any_data=True,
        )
    }


class WebhookIntegration(Integration):
    slug = "webhook"
    name = "Webhook"
    triggers = {
        "catch": Trigger(
            key="catch",
            label=_("When a webhook is called"),
            help=_("Runs for every POST to the recipe's webhook address; its JSON is the data."),
            any_data=True,
        )
    }


class ScheduleIntegration(Integration):
    slug = "schedule"
    name = "Schedule"
    triggers = {
        trigger.key: trigger
        for trigger in (
            _schedule(
                "cron",
                _("On a cron schedule"),
                (
                    Field(
                        "cron", _("Cron expression"), required=True, help=_("Such as 0 9 * * 1-5.")
                    ),
                ),
            ),
            _schedule(
                "every",
                _("Every few minutes"),
                (Field("minutes", _("Every how many minutes"), kind="number", required=True),),
            ),
            _schedule(
                "hourly",
                _("Every hour"),
                (Field("minute", _("At minute"), kind="number", default=0),),
            ),
            _schedule("daily", _("Every day"), (_AT,)),
            _schedule(
                "weekly",
                _("Every week"),
                (
                    Field("days", _("On"), kind="list", required=True, choices=WEEKDAY_CHOICES),
                    _AT,
                ),
            ),
        )
    }
