"""BookingSettings became business.BusinessSettings: the model leaves this app's state, its table stays."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0003_hold_owner_sms_countries_cap"),
        ("business", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="BookingSettings")],
            database_operations=[],
        ),
    ]
