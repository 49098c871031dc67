from django.db import migrations

from ledger.sql import read_sql


class Migration(migrations.Migration):
    """The journal's deferred balance and has-postings checks, one query per statement instead of per row."""

    dependencies = [("ledger", "0012_claim_step_events")]

    operations = [
        migrations.RunSQL(
            sql=read_sql("journal_checks.sql"), reverse_sql=read_sql("journal_checks_reverse.sql")
        ),
    ]
