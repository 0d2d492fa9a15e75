"""Steps stored before connections were referred to by id name them by label: resolve each
label once, now, so renaming a connection later changes nothing. A label that names no
connection stays as it is (the step keeps failing with "no connection called …" until the
recipe is published again with a connection)."""

from django.db import migrations


def _fill(document, labels: dict, workspace_id: int) -> tuple[bool, set[int]]:
    changed, ids = False, set()
    steps = document.get("steps") if isinstance(document, dict) else None
    for step in steps if isinstance(steps, list) else []:
        if not isinstance(step, dict) or not step.get("connection"):
            continue
        found = step.get("connection_id") or labels.get(
            (workspace_id, step.get("app"), step["connection"])
        )
        if found is None:
            continue
        if step.get("connection_id") != found:
            step["connection_id"] = found
            changed = True
        ids.add(found)
    return changed, ids


def fill_connection_ids(apps, schema_editor):
    Connection = apps.get_model("connections", "Connection")
    Recipe = apps.get_model("recipes", "Recipe")
    RecipeVersion = apps.get_model("recipes", "RecipeVersion")
    labels = {
        (workspace_id, integration, label): pk
        for pk, workspace_id, integration, label in Connection.objects.values_list(
            "pk", "workspace_id", "integration", "label"
        )
    }
    Through = RecipeVersion.connections.through
    versions = RecipeVersion.objects.values_list("pk", "recipe__workspace_id", "document")
    for pk, workspace_id, document in versions.iterator():
        changed, ids = _fill(document, labels, workspace_id)
        if changed:
            # Versions are immutable to the application (save() refuses); this is the one
            # sanctioned rewrite, adding ids beside the labels already there.
            RecipeVersion.objects.filter(pk=pk).update(document=document)
        Through.objects.bulk_create(
            [Through(recipeversion_id=pk, connection_id=i) for i in ids], ignore_conflicts=True
        )
    for pk, workspace_id, draft in Recipe.objects.values_list(
        "pk", "workspace_id", "draft"
    ).iterator():
        changed, _ids = _fill(draft, labels, workspace_id)
        if changed:
            Recipe.objects.filter(pk=pk).update(draft=draft)


class Migration(migrations.Migration):
    dependencies = [
        ("connections", "0001_initial"),
        ("recipes", "0002_version_connections"),
    ]

    operations = [migrations.RunPython(fill_connection_ids, migrations.RunPython.noop)]
