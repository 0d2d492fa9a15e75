"""The built-in tools as one integration, so the editor lists them like any app's actions."""

from __future__ import annotations

from integrations.base import Integration
from integrations.builtin import delay, filter, formatter, http_request, structure


class BuiltinIntegration(Integration):
    slug = "builtin"
    # Plain text: the contract formats ``name`` into error messages outside any request.
    name = "Built-in tools"
    oauth = None
    actions = {
        **{module.ACTION.key: module.ACTION for module in (filter, formatter, delay, http_request)},
        # Run by the engine itself: they shape which steps run rather than calling anything.
        structure.LOOP.key: structure.LOOP,
        structure.PATHS.key: structure.PATHS,
    }
    triggers = {}
