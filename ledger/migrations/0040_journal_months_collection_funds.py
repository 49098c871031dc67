"""Money in on the collection client-funds account counts in the dashboard summaries as money in on the
client-funds account does (ledger/sql/journal_months_collection.sql)."""

from django.db import migrations

from ledger.sql import read_sql


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0039_collection_funds_account"),
    ]

    operations = [
        migrations.RunSQL(
            sql=read_sql("journal_months_collection.sql"),
            reverse_sql=read_sql("journal_months_collection_reverse.sql"),
        ),
    ]
