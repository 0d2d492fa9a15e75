"""The data-only language of recipes: templates over plain JSON (``template``), the fixed
filters they may apply (``filters``), value conversion (``values``) and structured
conditions (``conditions``).

It sits below everything that uses it — the engine, recipes and integrations — and imports
nothing from ``hub`` or ``integrations`` (the import-linter contracts in pyproject.toml
keep it so). There is no attribute access, no call and no evaluation of user text.
"""
