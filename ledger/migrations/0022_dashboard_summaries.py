"""The dashboard's summaries of the journal and the paid events, kept by triggers (ledger/sql/journal_months.sql)."""

import django.db.models.deletion
from django.db import migrations, models

from ledger.sql import read_sql


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0021_audit_kind_document_profile"),
    ]

    operations = [
        migrations.CreateModel(
            name="JournalMonth",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("month", models.DateField(help_text="first day of the booking month")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("invoice", "Invoice"),
                            ("fee", "Fee"),
                            ("interest", "Interest"),
                            ("payment", "Payment"),
                            ("allocation", "Allocation"),
                            ("credit", "Credit"),
                            ("write_off", "Write-off"),
                            ("payout", "Payout"),
                            ("settlement", "Settlement"),
                            ("reversal", "Reversal"),
                            ("move", "Payment moved to another ledger"),
                            ("cost_transfer", "Unpaid costs carried to the customer's next invoice"),
                        ],
                        max_length=16,
                    ),
                ),
                ("overdue_from", models.DateField(null=True)),
                (
                    "receivable",
                    models.DecimalField(
                        decimal_places=2,
                        help_text="component postings: capital + fees + interest",
                        max_digits=18,
                    ),
                ),
                ("capital", models.DecimalField(decimal_places=2, max_digits=18)),
                ("capital_postings", models.BigIntegerField()),
                (
                    "funds_in",
                    models.DecimalField(
                        decimal_places=2, help_text="debits of the client-funds bank account", max_digits=18
                    ),
                ),
                ("funds_in_postings", models.BigIntegerField()),
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
                "indexes": [models.Index(fields=["ledger", "month"], name="journalmonth_ledger_month_idx")],
            },
        ),
        migrations.CreateModel(
            name="PaidMonth",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("month", models.DateField(help_text="first day of the month of the payment")),
                (
                    "stage",
                    models.CharField(
                        choices=[
                            ("by_due_date", "By the due date"),
                            ("late", "After the due date, before a reminder"),
                            ("after_reminder", "After a reminder"),
                            ("after_collection_notice", "After the collection notice"),
                            ("in_collection", "In collection"),
                        ],
                        max_length=24,
                    ),
                ),
                ("invoices", models.BigIntegerField()),
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
                "indexes": [models.Index(fields=["ledger", "month"], name="paidmonth_ledger_month_idx")],
            },
        ),
        migrations.RunSQL(
            sql=read_sql("journal_months.sql"), reverse_sql=read_sql("journal_months_reverse.sql")
        ),
        # The journal so far, summed once (a ledger's history, in one statement per ledger).
        migrations.RunSQL(
            "SELECT ledger_summaries_rebuild(id) FROM ledger_ledger",
            "DELETE FROM ledger_journalmonth; DELETE FROM ledger_paidmonth",
        ),
    ]
