# A foreign key whose column starts a unique constraint or index of the table needs no index of its own:
# that one serves every lookup by it (and the cascade of a delete), and each write maintains one index fewer.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0009_allocation_epoch_microseconds"),
    ]

    operations = [
        migrations.AlterField(
            model_name="allocation",
            name="appointment",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="allocations",
                to="scheduling.appointment",
            ),
        ),
        migrations.AlterField(
            model_name="appointmentchange",
            name="appointment",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="changes",
                to="scheduling.appointment",
            ),
        ),
    ]
