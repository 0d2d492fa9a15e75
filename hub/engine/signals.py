"""What the engine tells the layers above it, without importing them."""

from django.dispatch import Signal

# Sent when a step finds that the publisher of the run's version may no longer use one of
# its connections (docs/engine.md, "Who may use what"). Receivers get ``version_id`` and
# ``reason`` (a Message); hub/recipes/signals.py pauses the recipe whose current version it is.
publisher_lost_access = Signal()
