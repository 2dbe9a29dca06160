"""Drop the index of a many-to-many table's first column, which its unique pair starts with
(termino/shared/db/schema.py no longer makes it in a business schema). One statement per index, for Citus."""

from django.apps import apps as registry
from django.db import migrations


def drop_pair_prefix_indexes(apps, schema_editor):
    connection = schema_editor.connection
    if connection.schema_name == connection.public_schema_name:
        return
    tables = sorted(
        model._meta.db_table
        for model in registry.get_models(include_auto_created=True)
        if model._meta.auto_created and model._meta.unique_together
    )
    with connection.cursor() as cursor:
        # A plain one-column btree index whose column starts a unique btree index of the same table.
        cursor.execute(
            """
            SELECT DISTINCT c.relname
            FROM pg_index i
            JOIN pg_class c ON c.oid = i.indexrelid
            JOIN pg_class t ON t.oid = i.indrelid
            JOIN pg_index pair ON pair.indrelid = i.indrelid AND pair.indisunique AND pair.indnatts = 2
            WHERE t.relnamespace = current_schema()::regnamespace AND t.relname = ANY(%s)
              AND NOT i.indisunique AND i.indnatts = 1 AND i.indpred IS NULL AND i.indexprs IS NULL
              AND c.relam = (SELECT oid FROM pg_am WHERE amname = 'btree')
              AND i.indkey[0] = pair.indkey[0]
            ORDER BY c.relname
            """,
            [tables],
        )
        names = [name for (name,) in cursor.fetchall()]
    for name in names:
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


class Migration(migrations.Migration):
    dependencies = [
        ("business", "0004_no_like_indexes"),
    ]

    operations = [migrations.RunPython(drop_pair_prefix_indexes, migrations.RunPython.noop, elidable=True)]
