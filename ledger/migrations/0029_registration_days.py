"""The created-invoices report's daily figures, kept by a trigger (ledger/sql/registration_days.sql)."""

import django.db.models.deletion
from django.db import migrations, models

from ledger.sql import read_sql


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0028_journal_months_probes'),
    ]

    operations = [
        migrations.CreateModel(
            name='RegistrationDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('booking_date', models.DateField()),
                ('actor', models.CharField(max_length=150)),
                ('invoices', models.BigIntegerField()),
                ('amount', models.DecimalField(decimal_places=2, max_digits=18)),
                ('ledger', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='ledger.ledger')),
            ],
            options={
                'indexes': [models.Index(fields=['ledger', 'booking_date'], name='registrationday_ledger_idx')],
            },
        ),
        migrations.RunSQL(
            sql=read_sql("registration_days.sql"), reverse_sql=read_sql("registration_days_reverse.sql")
        ),
        # The registrations so far (one statement per ledger).
        migrations.RunSQL(
            "SELECT ledger_registration_days_rebuild(id) FROM ledger_ledger", "DELETE FROM ledger_registrationday"
        ),
    ]
