from django.db import migrations

from distribution.sql import read_sql


class Migration(migrations.Migration):
    dependencies = [("distribution", "0001_initial"), ("ledger", "0010_misdirected_move")]

    operations = [
        migrations.RunSQL(sql=read_sql("documents.sql"), reverse_sql=read_sql("documents_reverse.sql")),
    ]
