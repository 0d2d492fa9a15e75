"""The templates gallery (Recipes → Templates) and "Use this template": a form asking only
for the connections and picks a template leaves open, then a draft opened in the editor.

The form works without JavaScript: each picker is a plain select of the first page of its
choices, read through the connection chosen above it ("Show choices" reloads them after a
connection change); with JavaScript its search box asks the choices endpoint
(GET /recipes/choices/) as the member types. Only connections this member may use are
offered; another workspace's connection is never found.
"""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_http_methods

from hub.connections.models import Connection
from hub.recipes.gallery import BY_SLUG, TEMPLATES, placeholders
from hub.recipes.gallery.using import create_draft
from hub.web.decorators import member_required
from integrations.base import Context, IntegrationError

# Apps shown on a card beside the ones needing a connection: the hub's own steps are not.
HIDDEN_APPS = {"builtin", "manual", "schedule", "webhook"}


def _apps(document: dict) -> list[str]:
    from integrations import registry

    names = []
    apps = [document.get("trigger", {}).get("app")] + [s["app"] for s in document["steps"]]
    for app in apps:
        if app and app not in HIDDEN_APPS:
            name = str(registry.get(app).name or app)
            if name not in names:
                names.append(name)
    return names


@member_required
def gallery(request):
    cards = []
    for template in TEMPLATES:
        document = template.document
        if placeholders.unavailable(document):
            continue
        cards.append({"template": template, "apps": _apps(document)})
    return render(request, "recipes/gallery/list.html", {"cards": cards})


def _template(slug: str):
    template = BY_SLUG.get(slug)
    if template is None or placeholders.unavailable(template.document):
        raise Http404
    return template


def _first_page(request, picker, connection) -> tuple[list, str]:
    """The picker's first page of choices, and what went wrong reading it (or "")."""
    field = picker.field
    if not field.dynamic_choices:
        return list(field.choices), ""
    if connection is None or field.depends_on:
        return [], ""
    ctx = Context(
        workspace_id=request.workspace.id,
        config={},
        connection=connection,
        integration=connection.app,
    )
    try:
        return list(field.dynamic_choices(ctx, "", None).choices), ""
    except IntegrationError as error:
        return [], error.message


@member_required
@require_http_methods(["GET", "POST"])
def use_template(request, slug: str):
    template = _template(slug)
    document = template.document
    data = request.POST if request.method == "POST" else request.GET
    usable = Connection.objects.usable_by(request.user, request.workspace)
    apps, chosen = [], {}
    for integration in placeholders.connection_apps(document):
        # An AI step takes a connection of any provider (Integration.uses_connections_of).
        options = list(
            usable.filter(integration__in=integration.uses_connections_of).order_by("label")
        )
        wanted = data.get(f"connection.{integration.slug}", "")
        pick = next((c for c in options if str(c.pk) == wanted), options[0] if options else None)
        if pick is not None:
            chosen[integration.slug] = pick
        apps.append({"integration": integration, "options": options, "chosen": pick})
    rows = []
    for picker in placeholders.pickers(document):
        choices, problem = _first_page(request, picker, chosen.get(picker.app))
        rows.append(
            {
                "picker": picker,
                "choices": choices,
                "problem": problem,
                # Templates never call a function they are handed: the flag is set here.
                "live": bool(picker.field.dynamic_choices),
                "later": bool(picker.field.dynamic_choices and picker.field.depends_on),
                "value": data.get(picker.name, ""),
                "connection": chosen.get(picker.app),
            }
        )
    missing = [a["integration"] for a in apps if a["chosen"] is None]
    if request.method == "POST" and "use" in data and not missing:
        values = {row["picker"].name: row["value"] for row in rows if not row["later"]}
        recipe = create_draft(request.workspace, request.user, template, chosen, values)
        try:
            return redirect(reverse("editor", args=[recipe.pk]))
        except NoReverseMatch:
            return redirect("recipe_detail", recipe.pk)
    context = {
        "template": template,
        "apps": apps,
        "rows": rows,
        "missing": missing,
        "app_names": _apps(document),
    }
    return render(request, "recipes/gallery/use.html", context)
