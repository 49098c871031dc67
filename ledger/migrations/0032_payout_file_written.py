"""A payout batch records when its file was published (ledger/payments/payouts.py); the batches so far were."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0031_open_versions_covering'),
    ]

    operations = [
        migrations.AddField(
            model_name='payoutbatch',
            name='file_written_at',
            field=models.DateTimeField(blank=True, help_text='when its file was put under its real name in the outbox (published)', null=True),
        ),
        # every batch before this migration wrote its file in its own transaction
        migrations.RunSQL(
            "UPDATE ledger_payoutbatch SET file_written_at = created_at", migrations.RunSQL.noop
        ),
    ]
