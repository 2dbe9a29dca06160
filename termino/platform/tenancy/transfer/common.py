"""What export and import share: the archive's format, catalog queries, row (de)serialisation."""

from collections.abc import Callable
from importlib import metadata

from django.db import connection

FORMAT = "termino-tenant-move/1"
MANIFEST = "manifest.json"
PUBLIC = "public.json"
MANIFEST_KEYS = {
    "termino_version",
    "created_at",
    "source",
    "migrations",
    "public",
    "tables",
    "sequences",
    "media",
}
CHUNK = 1 << 20
CLAIM_ATTEMPTS = 3
# Applied migrations travel in the manifest (and are compared), not as rows: the target has its own.
MIGRATIONS_TABLE = "django_migrations"
# Session settings under which COPY's text format reads back the same on any server.
COPY_SETTINGS = {
    "TimeZone": "UTC",
    "DateStyle": "ISO, YMD",
    "IntervalStyle": "postgres",
    "extra_float_digits": "3",
    "bytea_output": "hex",
}
NOT_CARRIED = [
    "staff audit log (staffadmin.StaffAction): the source platform's record of its staff",
    "impersonation grants: one-time sign-in links of the source platform's staff",
    "access log and login lockout counters: platform records",
]

# What a file made with `redact_logins` leaves out: per table, the column made unusable or "rows" (none kept).
# "!" is Django's mark of an unusable password hash.
REDACTED = {
    "accounts_user": "password",
    "accounts_apitoken": "rows",
    "django_session": "rows",
}

Progress = Callable[[str], None]


class TransferError(Exception):
    """An export or import refused or failed; the message tells the operator why. Nothing was changed."""


def _quiet(_message: str) -> None:
    pass


def _q(*names: str) -> str:
    return ".".join(connection.ops.quote_name(n) for n in names)


def _termino_version() -> str:
    try:
        return metadata.version("termino")
    except metadata.PackageNotFoundError:
        return "unknown"


def _size(n: int) -> str:
    return f"{n / 1024:.1f} kB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


# --- The schema as the catalog sees it -------------------------------------------------------------------


def schema_tables(schema: str) -> dict[str, list[tuple[str, str]]]:
    """Every table of `schema` but django_migrations → its columns (name, type) in the schema's order.

    Dropped and generated columns are left out: COPY can neither read nor write them. Partitions (should
    there ever be any) are tables of their own here; their partitioned parents hold no rows themselves.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               JOIN pg_attribute a ON a.attrelid = c.oid
               WHERE n.nspname = %s AND c.relkind = 'r'
                 AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
               ORDER BY c.relname, a.attnum""",
            [schema],
        )
        tables: dict[str, list[tuple[str, str]]] = {}
        for table, column, kind in cursor.fetchall():
            tables.setdefault(table, []).append((column, kind))
    tables.pop(MIGRATIONS_TABLE, None)
    return tables


def schema_sequences(schema: str) -> list[tuple[str, str, str]]:
    """(sequence, table, column) of every sequence owned by a column of `schema` (serial or identity)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT s.relname, t.relname, a.attname
               FROM pg_class s JOIN pg_namespace n ON n.oid = s.relnamespace
               JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid
                    AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
               JOIN pg_class t ON t.oid = d.refobjid
               JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
               WHERE n.nspname = %s AND s.relkind = 'S' AND t.relname <> %s
               ORDER BY t.relname, a.attname""",
            [schema, MIGRATIONS_TABLE],
        )
        return cursor.fetchall()


def applied_migrations(schema: str) -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT app, name FROM {_q(schema, MIGRATIONS_TABLE)}")
        return {(app, name) for app, name in cursor.fetchall()}


def _copy_settings(cursor) -> None:
    for name, value in COPY_SETTINGS.items():
        cursor.execute("SELECT set_config(%s, %s, true)", [name, value])


# --- Public rows as JSON ---------------------------------------------------------------------------------


def _dump(obj, *, exclude: tuple[str, ...] = ()) -> dict:
    """A row's concrete fields by column; times, dates and amounts as exact text."""
    row = {}
    for f in obj._meta.concrete_fields:
        if f.attname in exclude:
            continue
        value = f.value_from_object(obj)
        plain = value is None or isinstance(value, str | int | float | bool | dict | list)
        row[f.attname] = value if plain else f.value_to_string(obj)
    return row


def _values(model, row: dict) -> dict:
    fields = {f.attname: f for f in model._meta.concrete_fields}
    unknown = sorted(set(row) - set(fields))
    if unknown:
        raise TransferError(f"{model.__name__} here has no field(s) {', '.join(unknown)} the file has")
    return {name: None if value is None else fields[name].to_python(value) for name, value in row.items()}


def _create(model, row: dict, **links):
    """Create through the ORM (signals fire), then put back the times that auto_now(_add) overwrote."""
    values = _values(model, row)
    obj = model.objects.create(**values, **links)
    stamps = {
        f.attname: values[f.attname]
        for f in model._meta.concrete_fields
        if (getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)) and f.attname in values
    }
    if stamps:
        model.objects.filter(pk=obj.pk).update(**stamps)
    return obj
