"""The settings' table takes the business app's name (a rename: the rows stay)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("business", "0001_initial"),
        ("booking", "0004_bookingsettings_moved_to_business"),
    ]

    operations = [
        migrations.AlterModelTable(name="businesssettings", table=None),
    ]
