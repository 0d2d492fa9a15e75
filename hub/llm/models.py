"""The LLM call log, the price table and budgets.

``LLMCall`` is one attempt that reached (or tried to reach) a provider: a retry is a second
row with its own usage, never an update of the first. Its cost is computed once, when it is
recorded, from the price in force at that moment, and kept with the prices used — editing
the price table later changes no past cost (recomputing is an explicit admin action).
A cost of ``None`` means the model has no price: "price unknown", never $0.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 16, "decimal_places": 8}
PRICE = {"max_digits": 12, "decimal_places": 4}


class ModelPrice(models.Model):
    """Prices per million tokens of the models matching ``model_pattern`` (a shell pattern:
    ``gpt-4o-mini*`` matches its dated snapshots), from ``starts_on`` until a later row for
    the same pattern starts. The most specific pattern wins."""

    provider = models.CharField(max_length=40, blank=True, help_text=_("Empty: any provider."))
    model_pattern = models.CharField(max_length=120)
    starts_on = models.DateField()
    input_per_million = models.DecimalField(**PRICE)
    cache_read_per_million = models.DecimalField(null=True, blank=True, **PRICE)
    cache_write_per_million = models.DecimalField(null=True, blank=True, **PRICE)
    output_per_million = models.DecimalField(**PRICE)
    # A higher tier for prompts above a size (Gemini 2.5 Pro over 200k tokens, Claude long
    # context): all of a call's tokens are billed at it once its input passes the threshold.
    long_context_threshold = models.PositiveIntegerField(null=True, blank=True)
    long_input_per_million = models.DecimalField(null=True, blank=True, **PRICE)
    long_cache_read_per_million = models.DecimalField(null=True, blank=True, **PRICE)
    long_cache_write_per_million = models.DecimalField(null=True, blank=True, **PRICE)
    long_output_per_million = models.DecimalField(null=True, blank=True, **PRICE)
    note = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["model_pattern", "-starts_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "model_pattern", "starts_on"], name="unique_model_price"
            )
        ]

    def __str__(self) -> str:
        return f"{self.model_pattern} from {self.starts_on}"

    def rates(self, input_tokens: int) -> dict[str, str]:
        """The four per-million rates for a call reading ``input_tokens``, as strings."""
        long = (
            self.long_context_threshold is not None and input_tokens > self.long_context_threshold
        )
        base_in = (
            self.long_input_per_million
            if long and self.long_input_per_million
            else self.input_per_million
        )
        read = (self.long_cache_read_per_million if long else None) or self.cache_read_per_million
        write = (
            self.long_cache_write_per_million if long else None
        ) or self.cache_write_per_million
        out = (
            self.long_output_per_million
            if long and self.long_output_per_million
            else self.output_per_million
        )
        return {
            "input": str(base_in),
            # A provider without a cache price bills cached tokens as input.
            "cache_read": str(read if read is not None else base_in),
            "cache_write": str(write if write is not None else base_in),
            "output": str(out),
            "tier": "long" if long else "standard",
        }


class LLMCall(models.Model):
    class Status(models.TextChoices):
        OK = "ok", _("Answered")
        ERROR = "error", _("Failed")

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="llm_calls"
    )
    # Spending outlives the recipe and its runs: the links are cleared, the row stays.
    recipe = models.ForeignKey(
        "recipes.Recipe", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.ForeignKey(
        "recipes.RecipeVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    run = models.ForeignKey(
        "engine.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="llm_calls"
    )
    step_key = models.CharField(max_length=100, blank=True)
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    connection = models.ForeignKey(
        "connections.Connection", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    provider = models.CharField(max_length=40)
    model_requested = models.CharField(max_length=120)
    model_answered = models.CharField(max_length=120, blank=True)
    operation = models.CharField(max_length=20)
    purpose = models.CharField(max_length=20, default="answer")
    # A hash of the instructions' template, the model and the parameters: calls with the same
    # prompt version can be compared across runs and versions.
    prompt_version = models.CharField(max_length=16, blank=True, db_index=True)
    input_uncached = models.PositiveIntegerField(default=0)
    cache_read = models.PositiveIntegerField(default=0)
    cache_write = models.PositiveIntegerField(default=0)
    output = models.PositiveIntegerField(default=0)
    reasoning = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    first_token_ms = models.PositiveIntegerField(null=True, blank=True)
    finish_reason = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    error = models.CharField(max_length=500, blank=True)
    # None: the model had no price when the call was made ("price unknown").
    cost = models.DecimalField(null=True, blank=True, **MONEY)
    price = models.ForeignKey(
        ModelPrice, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The rates the cost was computed with, kept so editing the price row changes nothing.
    rates = models.JSONField(null=True, blank=True)
    evaluation = models.BooleanField(default=False)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["workspace", "-created_at"], name="llmcall_ws_recent"),
            models.Index(fields=["run", "step_key"], name="llmcall_run_step"),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.model_requested} ({self.status})"

    @property
    def input_total(self) -> int:
        return self.input_uncached + self.cache_read + self.cache_write

    @property
    def price_known(self) -> bool:
        return self.cost is not None


class MonthlySpend(models.Model):
    """Committed AI spending per workspace, calendar month (in the workspace's time zone when
    the call was made) and recipe, kept up to date in the transaction that records each call.
    The budget gate reads these few rows instead of summing the month's calls, so it costs the
    same on the millionth call of a month as on the first."""

    WORKSPACE_TOTAL = 0  # recipe_key of the workspace's whole spending
    NO_RECIPE = -1  # recipe_key of calls made outside any recipe

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    # The recipe's id, no foreign key: spending outlives the recipe (as the calls do).
    recipe_key = models.IntegerField()
    cost = models.DecimalField(default=0, **MONEY)
    calls = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "month", "recipe_key"], name="unique_monthly_spend"
            )
        ]

    def __str__(self) -> str:
        return f"{self.workspace_id} {self.month:%Y-%m} {self.recipe_key}: {self.cost}"


class Budget(models.Model):
    """A monthly spending limit (USD) for a workspace, or for one recipe of it, per calendar
    month in the workspace's time zone."""

    class OnReach(models.TextChoices):
        WAIT = "wait", _("Wait until the budget is raised or the month turns")
        FAIL = "fail", _("Fail the step")

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="llm_budgets"
    )
    recipe = models.ForeignKey(
        "recipes.Recipe", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    monthly_limit = models.DecimalField(max_digits=12, decimal_places=2)
    on_reach = models.CharField(max_length=10, choices=OnReach.choices, default=OnReach.WAIT)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "recipe"], name="unique_recipe_budget"),
            models.UniqueConstraint(
                fields=["workspace"],
                condition=models.Q(recipe=None),
                name="unique_workspace_budget",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.workspace_id}/{self.recipe_id or '*'}: {self.monthly_limit}"

    @property
    def limit(self) -> Decimal:
        return Decimal(self.monthly_limit)


class BudgetAlert(models.Model):
    """A threshold (80, 90, 100 %) a budget crossed in a month: the unique constraint makes
    the email and the banner happen once per threshold per month, however many workers race."""

    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="alerts")
    month = models.DateField()
    threshold = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    dismissed = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["budget", "month", "threshold"], name="unique_budget_alert"
            )
        ]

    def __str__(self) -> str:
        return f"{self.budget_id} {self.month:%Y-%m} {self.threshold}%"


class EvalCase(models.Model):
    """A saved test case of a recipe's AI steps: a trigger sample and checks on the AI steps'
    outputs, each ``{"step", "field", "check", "value"}`` (see ``hub.recipes.evaluations``)."""

    recipe = models.ForeignKey("recipes.Recipe", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    trigger_data = models.JSONField(default=dict)
    checks = models.JSONField(default=list)
    # Saved from a real run with one click: which run it came from.
    from_run = models.ForeignKey(
        "engine.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["recipe", "name"]

    def __str__(self) -> str:
        return self.name


class EvalRun(models.Model):
    """One "Run evaluations" or "Compare" of a recipe's test cases, run by a worker.

    ``results`` holds each side's summary (``{"draft": {...}, "live": {...}}``), kept so the
    page shows it after the worker is done and so Publish can tell whether the draft it is
    about to publish was compared, on the same cases, with the version that is live now."""

    class Kind(models.TextChoices):
        EVALUATE = "evaluate", _("Evaluation of the draft")
        COMPARE = "compare", _("Draft compared with live")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting for a worker")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    recipe = models.ForeignKey("recipes.Recipe", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What was evaluated: the draft as a hash, the live version, and the cases as a hash.
    draft_fingerprint = models.CharField(max_length=64)
    live_version = models.ForeignKey(
        "recipes.RecipeVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cases_fingerprint = models.CharField(max_length=64)
    case_count = models.PositiveIntegerField(default=0)
    results = models.JSONField(default=dict)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipe", "-created_at"], name="evalrun_recipe_recent")]

    def __str__(self) -> str:
        return f"{self.kind} {self.recipe_id} {self.status}"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
