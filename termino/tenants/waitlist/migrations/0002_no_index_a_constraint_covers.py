# A foreign key whose column starts a unique constraint or index of the table needs no index of its own:
# that one serves every lookup by it (and the cascade of a delete), and each write maintains one index fewer.
#
# Not an AlterField in the database: Django's drops every non-unique-looking index on the column, which
# includes the partial unique index `waitlist_one_open_offer` (one open offer per entry). Only the
# foreign key's own index goes, by the name Django gave it.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("waitlist", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="offer",
                    name="entry",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="offers",
                        to="waitlist.entry",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    ["DROP INDEX IF EXISTS waitlist_offer_entry_id_31b266a5"],
                    [
                        "CREATE INDEX IF NOT EXISTS waitlist_offer_entry_id_31b266a5 ON waitlist_offer (entry_id)"
                    ],
                ),
            ],
        ),
    ]
