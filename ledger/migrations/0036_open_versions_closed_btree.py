"""The closed open-amount versions indexed by a btree on (ledger, valid_to): cheaper for the payment import
that closes one per payment (ledger/sql/open_versions_closed_btree.sql)."""

from django.db import migrations

from ledger.sql import read_sql


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0035_tenancy_keys_2"),
    ]

    operations = [
        migrations.RunSQL(
            sql=read_sql("open_versions_closed_btree.sql"),
            reverse_sql=read_sql("open_versions_closed_btree_reverse.sql"),
        ),
    ]
