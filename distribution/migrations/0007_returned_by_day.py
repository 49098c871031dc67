"""The returned documents by ledger and day, for the dashboard."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('distribution', '0006_document_months'),
        ('ledger', '0028_journal_months_probes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='returneddocument',
            index=models.Index(fields=['ledger', 'booking_date'], name='returned_ledger_day_idx'),
        ),
    ]
