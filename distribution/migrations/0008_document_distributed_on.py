"""The day a document left the queue, so that the settlement charges one still queued when its period
closed in the next period (issue 28)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('distribution', '0007_returned_by_day'),
        ('ledger', '0032_pending_outbox_files'),
    ]

    operations = [
        migrations.AddField(
            model_name='document',
            name='distributed_on',
            field=models.DateField(blank=True, help_text="the ledger's day it left the queue (sent, archived for print or archive only): the settlement charges it in the period holding that day", null=True),
        ),
        # Documents distributed before: charged by the day they were booked, as until now.
        migrations.RunSQL(
            "UPDATE distribution_document SET distributed_on = booking_date "
            "WHERE status IN ('sent', 'archived', 'awaiting_print', 'returned')",
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.AddConstraint(
            model_name='document',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('status__in', ['sent', 'archived', 'awaiting_print', 'returned']), _negated=True), ('distributed_on__isnull', False), _connector='OR'), name='document_done_has_its_day'),
        ),
    ]
