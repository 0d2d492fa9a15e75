from django.db import migrations


def fill(apps, schema_editor):
    from hub.llm.seed_prices import START, rows

    ModelPrice = apps.get_model("llm", "ModelPrice")
    for row in rows():
        ModelPrice.objects.get_or_create(
            provider=row["provider"],
            model_pattern=row["model_pattern"],
            starts_on=START,
            defaults={**row, "note": "Public list price"},
        )


class Migration(migrations.Migration):
    dependencies = [("llm", "0001_call_log_prices_budgets")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
