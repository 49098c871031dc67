import json
from pathlib import Path

from django.db import migrations

from claims.sql import read_sql

FIGURES = Path(__file__).resolve().parent.parent / "data" / "figures.json"


def load_figures(apps, schema_editor):
    StatutoryFigure = apps.get_model("claims", "StatutoryFigure")
    rows = json.loads(FIGURES.read_text(encoding="utf-8"))["figures"]
    StatutoryFigure.objects.bulk_create(StatutoryFigure(**row) for row in rows)


def unload_figures(apps, schema_editor):
    apps.get_model("claims", "StatutoryFigure").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("claims", "0001_initial")]

    operations = [
        migrations.RunSQL(sql=read_sql("figures.sql"), reverse_sql=read_sql("figures_reverse.sql")),
        migrations.RunPython(load_figures, unload_figures),
    ]
