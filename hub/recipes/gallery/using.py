"""Turning a template into the member's own draft recipe (never published here)."""

from __future__ import annotations

from hub.accounts.models import Workspace, audit
from hub.recipes import format as recipe_format
from hub.recipes import services
from hub.recipes.gallery import Template, placeholders
from hub.recipes.models import Recipe
from hub.recipes.services import resolve_connections


def create_draft(
    workspace: Workspace, user, template: Template, connections: dict, values: dict
) -> Recipe:
    """A new draft from ``template`` with the member's connections and picks filled in; a
    name already taken becomes "Name (2)". What is still empty is left for the editor,
    which lists it as a problem before publishing."""
    filled = placeholders.fill(template.document, connections, values)
    document = resolve_connections(workspace, recipe_format.normalize(filled))
    recipe = services.create_draft(workspace, document, user)
    audit(workspace, user, "recipe.from_template", recipe.name, recipe_id=recipe.pk)
    return recipe
