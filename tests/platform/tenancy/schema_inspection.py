"""Describe a schema's structure without its name, to compare schemas built different ways."""

from django.db import connection


def _rows(sql: str, schema: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, [schema])
        rows = cursor.fetchall()
    return sorted(tuple(str(v).replace(f"{schema}.", "<schema>.") for v in row) for row in rows)


def fingerprint(schema: str) -> dict[str, list[tuple]]:
    return {
        "columns": _rows(
            # The column's place among its table's columns, not its raw attribute number: a column dropped
            # and added again (a migration unapplied and re-applied) leaves a gap that changes nothing.
            """SELECT table_name, column_name,
                      row_number() OVER (PARTITION BY table_name ORDER BY ordinal_position), data_type,
                      is_nullable, column_default, character_maximum_length, numeric_precision, numeric_scale,
                      is_identity
               FROM information_schema.columns WHERE table_schema = %s""",
            schema,
        ),
        "constraints": _rows(
            """SELECT cl.relname, co.conname, co.contype, pg_get_constraintdef(co.oid)
               FROM pg_constraint co JOIN pg_class cl ON cl.oid = co.conrelid
               JOIN pg_namespace n ON n.oid = cl.relnamespace WHERE n.nspname = %s""",
            schema,
        ),
        "indexes": _rows(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = %s", schema
        ),
        "sequences": _rows(
            """SELECT sequence_name, data_type, increment
               FROM information_schema.sequences WHERE sequence_schema = %s""",
            schema,
        ),
        "migrations": _rows_from_table(schema),
    }


def _rows_from_table(schema: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT app, name FROM {connection.ops.quote_name(schema)}.django_migrations")
        return sorted(cursor.fetchall())


def user_schemas() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT nspname FROM pg_namespace
               WHERE nspname <> 'public' AND nspname <> 'information_schema' AND nspname NOT LIKE 'pg\\_%%'"""
        )
        return {row[0] for row in cursor.fetchall()}
