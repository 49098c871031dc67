"""The 360 name search reads customers in name order straight from an index: (ledger, upper(name) in
byte order, id) serves both the prefix LIKE and the ORDER BY, so a page stops after its rows instead of
sorting every customer the prefix matches (bench/bench_ui.py)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ledger", "0019_audit_events")]

    operations = [
        migrations.RunSQL(
            'CREATE INDEX customer_name_order_idx ON ledger_customer (ledger_id, (upper(name) COLLATE "C"), id)',
            "DROP INDEX customer_name_order_idx",
        ),
        migrations.RunSQL(
            "DROP INDEX customer_name_search_idx",
            "CREATE INDEX customer_name_search_idx ON ledger_customer (ledger_id, upper(name) varchar_pattern_ops)",
        ),
    ]
