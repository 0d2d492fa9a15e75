from django.db import migrations


def fill(apps, schema_editor):
    from hub.llm.seed_prices import seed

    seed(apps.get_model("llm", "ModelPrice"))


class Migration(migrations.Migration):
    dependencies = [("llm", "0001_call_log_prices_budgets")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
