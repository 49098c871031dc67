# The invoice portal's links moved down to the documents that carry them (issue 19: distribution renders
# the link, and must not import the portal above it). State only: the table keeps its name and rows.
import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("distribution", "0004_plural_names"),
        ("invoiceportal", "0002_plural_names"),
        ("ledger", "0026_customer_event_legal_entity"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="PortalLink",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("token_hash", models.CharField(max_length=64, unique=True)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("expires_at", models.DateTimeField()),
                        ("revoked_at", models.DateTimeField(blank=True, null=True)),
                        ("revoked_reason", models.CharField(blank=True, max_length=200)),
                        ("customer", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+", to="ledger.customer")),
                        ("document", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="distribution.document")),
                        ("invoice", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="ledger.invoice")),
                        ("ledger", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+", to="ledger.ledger")),
                    ],
                    options={
                        "db_table": "invoiceportal_portallink",
                        "indexes": [models.Index(fields=["invoice"], name="portallink_invoice_idx")],
                    },
                ),
            ],
        ),
    ]
