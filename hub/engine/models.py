"""Runs and their step records, and the state each trigger keeps between fires.

``StepRun`` holds one row per attempt: a retry, a resume after a crash and a replay each add
a row, so the history of a step is never overwritten. A step inside a loop carries the
item's position in ``item``.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

# Models of other apps are named by string: the recipes are the layer above the engine, and
# the engine imports nothing of theirs.


class Run(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        WAITING = "waiting", _("Waiting")
        SUCCEEDED = "succeeded", _("Succeeded")
        FILTERED = "filtered", _("Stopped by a filter")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    ACTIVE = (Status.QUEUED, Status.RUNNING, Status.WAITING)
    FINISHED = (Status.SUCCEEDED, Status.FILTERED, Status.FAILED, Status.CANCELLED)

    class Source(models.TextChoices):
        MANUAL = "manual", _("Run now")
        WEBHOOK = "webhook", _("Webhook")
        SCHEDULE = "schedule", _("Schedule")
        REPLAY = "replay", _("Replay")
        # An app's trigger: an item found by a poll, or an event the app pushed.
        APP = "app", _("App event")

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="runs"
    )
    recipe = models.ForeignKey("recipes.Recipe", on_delete=models.CASCADE, related_name="runs")
    # RESTRICT, not PROTECT: a version cannot vanish under its runs, but deleting the recipe
    # or the workspace deletes both together.
    version = models.ForeignKey(
        "recipes.RecipeVersion", on_delete=models.RESTRICT, related_name="runs"
    )
    source = models.CharField(max_length=10, choices=Source.choices)
    trigger_data = models.JSONField(default=dict, blank=True)
    # Firing the same event twice (a schedule's due time, a webhook's idempotency key) hits
    # this constraint, so double-firing creates no second run.
    dedupe_key = models.CharField(max_length=200, unique=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    error = models.TextField(blank=True)
    # The same error as a hub.engine.messages.Message, so each reader gets it in their
    # language; ``error`` keeps the English text (command line, logs, older rows).
    error_message = models.JSONField(null=True, blank=True)
    failed_step = models.CharField(max_length=100, blank=True)
    replay_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replays"
    )
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    # The lease: the worker executing the run and until when its claim holds.
    lease_owner = models.CharField(max_length=100, blank=True)
    lease_expires = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    # When a waiting run (a delay, a retry backoff) may go on.
    resume_at = models.DateTimeField(null=True, blank=True)
    # When the run's message was last handed to the broker; the sweeper looks at it.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    # The resume time a message has been sent for. A waiting run whose resume_at differs has
    # no message: it is parked in the database until the tick sends one (docs/engine.md,
    # "Waits"), and the conditional UPDATE setting this field makes that send happen once.
    enqueued_for = models.DateTimeField(null=True, blank=True)
    # The run fails when still unfinished at this time (see docs/engine.md, "Timeouts").
    deadline = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["workspace", "-created_at"], name="run_ws_recent"),
            # The Runs page's filters: one recipe's runs, or one status's, newest first.
            models.Index(
                fields=["workspace", "recipe", "-created_at"], name="run_ws_recipe_recent"
            ),
            models.Index(
                fields=["workspace", "status", "-created_at"], name="run_ws_status_recent"
            ),
            models.Index(fields=["status", "enqueued_at"], name="run_status_enqueued"),
            models.Index(fields=["status", "resume_at"], name="run_status_resume"),
        ]

    def __str__(self) -> str:
        return f"Run {self.pk} of {self.recipe_id} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def duration_ms(self) -> int | None:
        if self.started_at and self.finished_at:
            return int((self.finished_at - self.started_at).total_seconds() * 1000)
        return None


class StepRun(models.Model):
    """One attempt of one step of a run."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FILTERED = "filtered", _("Stopped the run")
        WAITING = "waiting", _("Waiting")
        RETRYING = "retrying", _("Failed, will retry")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")
        INTERRUPTED = "interrupted", _("Interrupted")
        CANCELLED = "cancelled", _("Cancelled")

    DONE = (Status.SUCCEEDED, Status.FILTERED, Status.SKIPPED)

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="steps")
    key = models.CharField(max_length=100)
    position = models.PositiveIntegerField()
    # The loop item this attempt ran for, or null outside a loop.
    item = models.PositiveIntegerField(null=True, blank=True)
    app = models.CharField(max_length=40)
    action = models.CharField(max_length=60)
    attempt = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=12, choices=Status.choices)
    input = models.JSONField(null=True, blank=True)
    output = models.JSONField(null=True, blank=True)
    output_truncated = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    error_message = models.JSONField(null=True, blank=True)  # as Run.error_message
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["run", "id"]
        indexes = [models.Index(fields=["run", "key", "item"], name="steprun_slot")]

    def __str__(self) -> str:
        return f"{self.key}#{self.attempt} ({self.status})"


class DedupeKey(models.Model):
    """An event that has started a run (a schedule's due time, a webhook's Idempotency-Key, a
    poller's item), kept apart from run history: pruning runs leaves these rows, so the event
    cannot fire again until the key itself expires after ENGINE_DEDUPE_DAYS."""

    recipe = models.ForeignKey(
        "recipes.Recipe", on_delete=models.CASCADE, related_name="dedupe_keys"
    )
    key = models.CharField(max_length=200, unique=True)
    run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.key


class StepOutput(models.Model):
    """The whole output of a step attempt whose output is larger than the run page keeps
    (``ENGINE_OUTPUT_MAX_BYTES``): later steps, a resumed run and a replay map from this,
    up to ``ENGINE_OUTPUT_HARD_MAX_BYTES``. Kept apart so the run pages never load it."""

    step = models.OneToOneField(
        StepRun, on_delete=models.CASCADE, primary_key=True, related_name="full_output"
    )
    data = models.JSONField()

    def __str__(self) -> str:
        return f"Whole output of step attempt {self.pk}"


class TriggerState(models.Model):
    """What a recipe's trigger remembers: when a schedule fires next, a poller's cursor and
    the ids it has already seen.

    A polled app trigger (``kind = "poll"``, docs/engine.md "Polling triggers") is due at
    ``next_fire_at`` like a schedule; while its poll is in flight that time is pushed ahead
    by the poll lease, so a lost poll is sent again once the lease runs out."""

    POLL = "poll"

    recipe = models.OneToOneField(
        "recipes.Recipe", on_delete=models.CASCADE, related_name="trigger_state"
    )
    kind = models.CharField(max_length=20)
    next_fire_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_fired_at = models.DateTimeField(null=True, blank=True)
    cursor = models.JSONField(null=True, blank=True)
    # [[item id, unix seconds first fired], ...], pruned by age and count (polling.remember).
    seen_ids = models.JSONField(default=list, blank=True)
    # The trigger's app, event, connection and config, hashed: a republish with the same
    # hash keeps the cursor, a different one starts fresh from "now".
    config_hash = models.CharField(max_length=64, blank=True)
    # Minutes between polls, set by an admin (1-15); empty: TRIGGER_POLL_MINUTES.
    interval_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    # Polls failed in a row, the last reason (the app's words) and since when.
    failures = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    # When a changed trigger config made the poll start fresh (shown on the recipe page).
    reset_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.kind} trigger of {self.recipe_id}"


class RetentionPolicy(models.Model):
    """How long a workspace keeps finished runs; set by its admins. Without a row the
    deployment's ENGINE_RUN_RETENTION_DAYS applies."""

    workspace = models.OneToOneField(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="run_retention"
    )
    days = models.PositiveIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.workspace}: {self.days} days"


class RunSlotCount(models.Model):
    """How many of a workspace's runs created in one quarter hour ended each way, counted
    once the quarter hour is over and all its runs have finished (``hub.engine.run_counts``).
    A row with zeros says the quarter hour had no runs."""

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    # The quarter hour's start, in UTC.
    slot = models.DateTimeField()
    succeeded = models.PositiveIntegerField(default=0)
    filtered = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    cancelled = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "slot"], name="runslotcount_once")
        ]

    def __str__(self) -> str:
        return f"Runs of {self.workspace_id} from {self.slot:%Y-%m-%d %H:%M}"


class RunCountEpoch(models.Model):
    """Bumped whenever a workspace's counted quarter hours are forgotten (runs deleted), so
    counts taken before cannot be written after (``hub.engine.run_counts``)."""

    workspace = models.OneToOneField(
        "accounts.Workspace", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    generation = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"Run counts of {self.workspace_id}, generation {self.generation}"
