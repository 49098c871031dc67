"""The dashboard summaries' triggers read the journal by primary-key probes, and stand aside for a writer
that keeps the summaries itself (ledger/sql/journal_months_probes.sql)."""

from django.db import migrations

from ledger.sql import read_sql


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0027_open_versions"),
    ]

    operations = [
        migrations.RunSQL(
            sql=read_sql("journal_months_probes.sql"),
            reverse_sql=read_sql("journal_months_probes_reverse.sql"),
        ),
    ]
