from django.db import migrations

from ledger.sql import read_sql


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [
        migrations.RunSQL(sql=read_sql("journal.sql"), reverse_sql=read_sql("journal_reverse.sql")),
    ]
