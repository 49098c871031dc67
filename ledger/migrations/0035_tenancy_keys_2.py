"""Composite tenancy keys for the invoice attachments, Autogiro mandate requests and eFaktura matches
(ledger/sql/tenancy_keys_2.sql)."""

from django.db import migrations

from ledger.sql import read_sql


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0034_autogiro_mandate_requests"),
        ("distribution", "0009_efaktura_match"),
    ]

    operations = [
        migrations.RunSQL(sql=read_sql("tenancy_keys_2.sql"), reverse_sql=read_sql("tenancy_keys_2_reverse.sql")),
    ]
