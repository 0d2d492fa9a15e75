"""Admin pages: the price table (editable, effective-dated), budgets, and the call log (read
only, with the explicit "recompute costs" action)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from hub.llm import prices
from hub.llm.models import Budget, LLMCall, ModelPrice


@admin.register(ModelPrice)
class ModelPriceAdmin(admin.ModelAdmin):
    list_display = (
        "model_pattern",
        "provider",
        "starts_on",
        "input_per_million",
        "cache_read_per_million",
        "cache_write_per_million",
        "output_per_million",
        "long_context_threshold",
    )
    list_filter = ("provider",)
    search_fields = ("model_pattern",)


@admin.register(Budget)
class BudgetAdmin(admin.ModelAdmin):
    list_display = ("workspace", "recipe", "monthly_limit", "on_reach", "updated_at")


@admin.action(description=_("Recompute costs with today's price table"))
def recompute_costs(modeladmin, request, queryset):
    changed = prices.recompute(queryset)
    modeladmin.message_user(request, _("%(n)s costs changed.") % {"n": changed}, messages.SUCCESS)


@admin.register(LLMCall)
class LLMCallAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "workspace",
        "provider",
        "model_requested",
        "status",
        "input_uncached",
        "cache_read",
        "output",
        "cost",
    )
    list_filter = ("provider", "status", "evaluation")
    actions = [recompute_costs]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
