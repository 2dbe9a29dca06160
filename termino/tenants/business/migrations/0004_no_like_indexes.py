"""Drop the LIKE-only second indexes Django made for unique text columns (termino/shared/db/schema.py no
longer makes them in a business schema). One statement per index, for Citus."""

from django.db import migrations


def drop_like_indexes(apps, schema_editor):
    connection = schema_editor.connection
    if connection.schema_name == connection.public_schema_name:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
            " AND indexname LIKE %s AND indexdef ~ %s ORDER BY indexname",
            [r"%\_like", r" (varchar|text)_pattern_ops\)$"],
        )
        names = [name for (name,) in cursor.fetchall()]
    for name in names:
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


class Migration(migrations.Migration):
    dependencies = [
        ("business", "0003_auto_complete_team_notices"),
    ]

    operations = [migrations.RunPython(drop_like_indexes, migrations.RunPython.noop, elidable=True)]
