"""The dashboard's channel mix kept by triggers on the documents (distribution/sql/document_months.sql)."""

import django.db.models.deletion
from django.db import migrations, models

from distribution.sql import read_sql


class Migration(migrations.Migration):
    dependencies = [
        ("distribution", "0005_portal_link"),
        ("ledger", "0028_journal_months_probes"),
    ]

    operations = [
        migrations.CreateModel(
            name="DocumentMonth",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "month",
                    models.DateField(help_text="first day of the month of the documents' booking date"),
                ),
                ("channel", models.CharField(max_length=16)),
                ("documents", models.BigIntegerField()),
                (
                    "ledger",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="ledger.ledger",
                    ),
                ),
            ],
            options={
                "indexes": [models.Index(fields=["ledger", "month"], name="documentmonth_ledger_month_idx")],
            },
        ),
        migrations.RunSQL(
            sql=read_sql("document_months.sql"), reverse_sql=read_sql("document_months_reverse.sql")
        ),
        migrations.RunSQL(
            "SELECT distribution_document_months_rebuild(id) FROM ledger_ledger",
            "DELETE FROM distribution_documentmonth",
        ),
    ]
