"""The invoices' open-amount versions for the reports as of a date, kept by a trigger (ledger/sql/open_versions.sql)."""

import django.db.models.deletion
import django.db.models.expressions
from django.db import migrations, models

from ledger.sql import read_sql


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0026_customer_event_legal_entity"),
    ]

    operations = [
        migrations.CreateModel(
            name="OpenVersion",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "invoice", "valid_from", blank=True, editable=False, primary_key=True, serialize=False
                    ),
                ),
                (
                    "customer",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="ledger.customer",
                    ),
                ),
                ("due_date", models.DateField()),
                ("valid_from", models.DateField()),
                (
                    "valid_to",
                    models.DateField(
                        help_text="the first day it no longer held; NULL: it still does", null=True
                    ),
                ),
                ("capital", models.DecimalField(decimal_places=2, max_digits=18)),
                ("fees", models.DecimalField(decimal_places=2, max_digits=18)),
                ("interest", models.DecimalField(decimal_places=2, max_digits=18)),
                (
                    "paid",
                    models.DecimalField(
                        decimal_places=2,
                        help_text="brought by payments and their allocations, net of reversals",
                        max_digits=18,
                    ),
                ),
                (
                    "open",
                    models.DecimalField(
                        decimal_places=2, help_text="capital + fees + interest", max_digits=18
                    ),
                ),
                (
                    "invoice",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="ledger.invoice",
                    ),
                ),
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
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("valid_to__isnull", True),
                            ("valid_to__gt", models.F("valid_from")),
                            _connector="OR",
                        ),
                        name="openversion_range_not_empty",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            (
                                "open",
                                django.db.models.expressions.CombinedExpression(
                                    django.db.models.expressions.CombinedExpression(
                                        models.F("capital"), "+", models.F("fees")
                                    ),
                                    "+",
                                    models.F("interest"),
                                ),
                            )
                        ),
                        name="openversion_open_is_components",
                    ),
                ],
            },
        ),
        migrations.RunSQL(
            sql=read_sql("open_versions.sql"), reverse_sql=read_sql("open_versions_reverse.sql")
        ),
        # The journal so far (a ledger's history, in one statement per ledger).
        migrations.RunSQL(
            "SELECT ledger_open_versions_rebuild(id) FROM ledger_ledger", "DELETE FROM ledger_openversion"
        ),
    ]
