"""Prepared statements for the few hot reads whose planning costs more than running them.

The availability statement (one statement for everything the engine needs) took PostgreSQL about 0.4 ms
to parse and 1.2 ms to plan, and 0.5 ms to run, for one staff member's day.

Django's cursors bind parameters client-side and never prepare (`prepare_threshold` is None, as
connection poolers in transaction mode need). `fetchone()` here runs a statement through a psycopg cursor
with server-side binding that prepares it, wrapped like Django's own, so query logging and counting see it.

**One prepared statement per business.** PostgreSQL re-analyses and re-plans a prepared statement whenever
the session's `search_path` differs from the one it was planned under. One statement shared by every
business was therefore planned again on nearly every request (each request to another business changes the
path), over the catalog entries of whichever business it was, which a connection serving thousands of
businesses no longer holds in the CPU's caches: 1.8 ms at 10 businesses, 2.5 ms at 2,000 on one connection
(the whole read, on the development machine). So a statement here names its tables with `table()`, which
`fetchone()` qualifies with the current business's schema: each business has its own statement, only ever
run under that business's search_path, so its plan stays valid for as long as the connection lives. And
every connection plans with `plan_cache_mode = force_generic_plan` (termino/shared/db/base.py): under
`auto` PostgreSQL makes five custom plans before it considers one for any parameters, so a business with a
few requests per connection would be planned every time. Measured the same way: 1.0 ms at 10, 1.4 ms at
2,000. psycopg keeps two statements per business, up to CONN_MAX_SCHEMAS businesses (least recently used
out first); each costs the PostgreSQL backend about 0.3 MB, bounded with the rest of a connection's memory
(docs/scaling.md).

Under transaction pooling (PgBouncer in transaction mode) a prepared statement would stay on a server
connection another client gets next: there the statement runs through Django's ordinary cursor, which
sets the schema per transaction.

Results come back in PostgreSQL's binary format: the statements return arrays of thousands of epoch
microseconds, which psycopg reads as plain integers instead of parsing their digits (0.7 ms of a 30-day
visit's 4.8). The statements return numbers, arrays and `json` only, which read back the same either way.
"""

import re

import psycopg
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model
from django_tenants.utils import quote_schema_name
from psycopg import pq

# psycopg prepares only when a threshold is set; this one is never reached by counting, so only statements
# executed through PreparingCursor are prepared, never Django's (which are client-side bound anyway).
_EXPLICIT_ONLY = 2**31 - 1
# Stands for the business's schema in a statement's table names until fetchone() puts it in (a statement
# run without it fails: no such schema).
_SCHEMA = '"__schema__"'
# Statements kept per connection: two kinds (one service, a visit) for each business it may serve before
# CONN_MAX_SCHEMAS closes it (or this many businesses, when that is unbounded).
_KINDS, _UNBOUNDED_SCHEMAS = 2, 2000


class PreparingCursor(psycopg.Cursor):
    def __init__(self, connection, **kwargs):
        super().__init__(connection, **kwargs)
        self.format = pq.Format.BINARY

    def execute(self, query, params=None, *, prepare=None, binary=None):
        conn = self.connection
        threshold = conn.prepare_threshold
        conn.prepare_threshold = _EXPLICIT_ONLY
        try:
            return super().execute(query, params, prepare=True, binary=binary)
        finally:
            conn.prepare_threshold = threshold


def table(model: type[Model]) -> str:
    """The model's table in the business's schema, for a statement run by fetchone()."""
    return f"{_SCHEMA}.{model._meta.db_table}"


def compact(sql: str) -> str:
    """The statement without comments and runs of white space: psycopg and the PostgreSQL backend keep one
    copy of its text per business. Comments must not hold quotes' closing, nor string literals `--`."""
    return re.sub(r"\s+", " ", re.sub(r"--[^\n]*", "", sql)).strip()


def statements_per_connection(settings_dict: dict) -> int:
    return _KINDS * (settings_dict.get("CONN_MAX_SCHEMAS") or _UNBOUNDED_SCHEMAS)


def qualified(sql: str, schema: str) -> str:
    """`sql` with its tables (named by table()) in `schema`."""
    return sql.replace(_SCHEMA, quote_schema_name(schema))


def fetchone(sql: str, params: dict, using: str = DEFAULT_DB_ALIAS) -> tuple | None:
    """Run `sql` (its tables named by table()) in the current business's schema, prepared; its one row."""
    connection = connections[using]
    with connection.cursor() as plain:  # connects and sets the business's search_path (django-tenants)
        text = qualified(sql, connection.schema_name)
        if getattr(connection, "transaction_pooling", False):
            plain.execute(text, params)
            return plain.fetchone()
    raw = connection.connection
    limit = statements_per_connection(connection.settings_dict)
    if raw.prepared_max != limit:
        raw.prepared_max = limit
    # Django's own wrapping (CursorWrapper, or the debug wrapper that logs queries), around our cursor.
    with connection._prepare_cursor(PreparingCursor(raw)) as cursor:
        cursor.execute(text, params)
        return cursor.fetchone()
