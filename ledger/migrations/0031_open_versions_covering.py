"""The open-amount versions' partial indexes carry the reports' columns (ledger/sql/open_versions_covering.sql)."""

from django.db import migrations

from ledger.sql import read_sql


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0030_account_days"),
    ]

    operations = [
        migrations.RunSQL(
            sql=read_sql("open_versions_covering.sql"), reverse_sql=read_sql("open_versions_covering_reverse.sql")
        ),
    ]
