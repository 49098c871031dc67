"""Files for the outbox committed but not yet under their real name (ledger.services.outbox_files)."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0031_open_versions_covering'),
    ]

    operations = [
        migrations.CreateModel(
            name='PendingOutboxFile',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('path', models.CharField(help_text="the file's real path", max_length=500, unique=True)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('ledger', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='ledger.ledger')),
            ],
        ),
    ]
