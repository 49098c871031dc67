# PortalLink now lives in distribution (distribution/migrations/0005): state only, the table stays.
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("invoiceportal", "0002_plural_names"),
        ("distribution", "0005_portal_link"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="providerpayment",
                    name="link",
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+", to="distribution.portallink"),
                ),
                migrations.DeleteModel(name="PortalLink"),
            ],
        ),
    ]
