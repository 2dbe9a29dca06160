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
        "triggers": _rows(
            """SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t
               JOIN pg_class c ON c.oid = t.tgrelid
               WHERE NOT t.tgisinternal AND c.relnamespace = %s::regnamespace""",
            schema,
        ),
        "functions": _rows(
            "SELECT proname, pg_get_functiondef(oid) FROM pg_proc WHERE pronamespace = %s::regnamespace",
            schema,
        ),
        "migrations": _rows_from_table(schema),
    }


def _rows_from_table(schema: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT app, name FROM {connection.ops.quote_name(schema)}.django_migrations")
        return sorted(cursor.fetchall())


# Schemas Citus brings along (citus_columnar adds the columnar ones): not the application's. They belong to
# the extensions, which the query below also checks, in case a release adds another.
CITUS_SCHEMAS = ("citus", "citus_internal", "columnar", "columnar_internal")


def user_schemas() -> set[str]:
    """The schemas the application made: businesses, spares and what tests create; no system or extension
    schema, so the same on plain PostgreSQL and on a Citus coordinator."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT n.nspname FROM pg_namespace n
               WHERE n.nspname <> 'public' AND n.nspname <> 'information_schema'
                 AND n.nspname NOT LIKE 'pg\\_%%' AND n.nspname <> ALL(%s)
                 AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass
                                 AND d.objid = n.oid AND d.deptype = 'e')""",
            [list(CITUS_SCHEMAS)],
        )
        return {row[0] for row in cursor.fetchall()}
