"""The journal per day, account and action for the monthly accounting report, kept by a trigger
(ledger/sql/account_days.sql)."""

import django.db.models.deletion
from django.db import migrations, models

from ledger.sql import read_sql


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0029_registration_days'),
    ]

    operations = [
        migrations.CreateModel(
            name='AccountDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('booking_date', models.DateField()),
                ('action', models.CharField(max_length=40)),
                ('postings', models.BigIntegerField()),
                ('debit', models.DecimalField(decimal_places=2, help_text='the positive amounts', max_digits=18)),
                ('credit', models.DecimalField(decimal_places=2, help_text='the negative amounts, as a positive number', max_digits=18)),
                ('account', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='ledger.account')),
                ('ledger', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='ledger.ledger')),
            ],
            options={
                'indexes': [models.Index(fields=['ledger', 'booking_date'], name='accountday_ledger_date_idx')],
            },
        ),
        migrations.RunSQL(sql=read_sql("account_days.sql"), reverse_sql=read_sql("account_days_reverse.sql")),
        # The journal so far (one statement per ledger).
        migrations.RunSQL(
            "SELECT ledger_account_days_rebuild(id) FROM ledger_ledger", "DELETE FROM ledger_accountday"
        ),
    ]
