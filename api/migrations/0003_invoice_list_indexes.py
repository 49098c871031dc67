"""Indexes the API's invoice list and lookups need at a million invoices per ledger.

Kept in the api app (it is the API's access path) as plain SQL with reverse SQL; they index
ledger_invoice, so they could move to a ledger migration without change.
- (ledger, due_date, id) and friends: a cursor page is an index range scan (api/pagination.py),
  whatever the ordering the client asks for;
- (ledger, external_id): GET .../invoices-by-external-id/<id>/ without a scan.
"""

from django.db import migrations

INDEXES = {
    "invoice_api_due_idx": "(ledger_id, due_date, id)",
    "invoice_api_invoice_date_idx": "(ledger_id, invoice_date, id)",
    "invoice_api_created_idx": "(ledger_id, created_at, id)",
    "invoice_api_status_due_idx": "(ledger_id, status, due_date, id)",
    "invoice_api_customer_due_idx": "(customer_id, due_date, id)",
    "invoice_api_external_id_idx": "(ledger_id, external_id) WHERE external_id <> ''",
}


class Migration(migrations.Migration):
    dependencies = [("api", "0002_ratecounter"), ("ledger", "0010_misdirected_move")]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX {name} ON ledger_invoice {columns};", reverse_sql=f"DROP INDEX {name};"
        )
        for name, columns in INDEXES.items()
    ]
