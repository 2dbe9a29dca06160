"""Prepared statements for the few hot reads whose planning costs more than running them.

The availability statement (one statement for everything the engine needs) took PostgreSQL about 0.4 ms
to parse and 1.2 ms to plan, and 0.5 ms to run, for one staff member's day.

Django's cursors bind parameters client-side and never prepare (`prepare_threshold` is None, as
connection poolers in transaction mode need). `fetchone()` here runs a statement through a psycopg cursor
with server-side binding that prepares it, wrapped like Django's own, so query logging and counting see it.

**Statements of its own for a business served often.** PostgreSQL re-analyses and re-plans a prepared
statement whenever the session's `search_path` differs from the one it was planned under. One statement
shared by every business is therefore planned again whenever a connection turns to another business, which
on a web worker serving many is nearly every request: 2.1 ms for the whole availability read on one
connection taking turns among 10 businesses, against 0.6 ms for one business alone (development machine).
So a statement names its tables with `table()`. From a business's PROMOTE_AFTER-th statement on a
connection, `fetchone()` runs the text qualified with its schema: a statement of its own, only ever run
under its own search_path, planned once for as long as the connection lives (0.8 ms taking turns among
10). Every connection plans with `plan_cache_mode = force_generic_plan` (termino/shared/db/base.py): under
`auto` PostgreSQL makes five custom plans before it considers one for any parameters. A business served
less often runs the shared text, planned again as before: statements of its own cost the PostgreSQL
backend about 0.3 MB per business, and for thousands of rarely served businesses per connection that
memory cost more than the planning it saved (measured with bench/tenant_scale.py at 10,000 businesses:
backends of 4.5-4.9 GB instead of 2.7-2.8, and no faster). A connection keeps statements of their own for
its HOT_BUSINESSES most recently served such businesses (psycopg's bound, least recently used out first).

Under transaction pooling (PgBouncer in transaction mode) a prepared statement would stay on a server
connection another client gets next: there the statement runs through Django's ordinary cursor, which
sets the schema per transaction.

Results come back in PostgreSQL's binary format: the statements return arrays of thousands of epoch
microseconds, which psycopg reads as plain integers instead of parsing their digits (0.7 ms of a 30-day
visit's 4.8). The statements return numbers, arrays and `json` only, which read back the same either way.
"""

import functools
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
# A business gets statements of its own on a connection from its PROMOTE_AFTER-th statement there on; the
# connection keeps them for its HOT_BUSINESSES most recently served such businesses, three kinds each (the
# availability of a service or a visit, a group service's sessions, a staff API token), the shared ones
# besides.
PROMOTE_AFTER = 3
HOT_BUSINESSES = 500
_KINDS = 3


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


def statements_per_connection() -> int:
    return _KINDS * (HOT_BUSINESSES + 1)


def qualified(sql: str, schema: str) -> str:
    """`sql` with its tables (named by table()) in `schema`."""
    return sql.replace(_SCHEMA, quote_schema_name(schema))


@functools.cache
def shared(sql: str) -> str:
    """`sql` with its tables found by the search_path: one statement for every business."""
    return sql.replace(_SCHEMA + ".", "")


def _own_statements(connection, schema: str) -> bool:
    """Whether the business runs statements of its own on this connection: from its PROMOTE_AFTER-th
    statement there, for the connection's HOT_BUSINESSES most recently served such businesses. One pushed
    out starts counting again, so a connection serving more busy businesses than that re-prepares one at
    most every PROMOTE_AFTER statements, and runs the shared ones in between."""
    hot = connection.prepared_hot  # OrderedDict, least recently used first; base.py starts it per session
    if schema in hot:
        hot.move_to_end(schema)
        return True
    uses = connection.prepared_uses  # statements run by businesses not (yet) hot
    count = uses.pop(schema, 0) + 1
    if count >= PROMOTE_AFTER:
        hot[schema] = True
        if len(hot) > HOT_BUSINESSES:
            hot.popitem(last=False)  # its statements leave when psycopg's bound pushes them out
        return True
    uses[schema] = count
    if len(uses) > 4 * HOT_BUSINESSES:
        uses.popitem(last=False)
    return False


def fetchone(sql: str, params: dict | list, using: str = DEFAULT_DB_ALIAS) -> tuple | None:
    """Run `sql` (its tables named by table()) in the current business's schema, prepared; its one row."""
    connection = connections[using]
    with connection.cursor() as plain:  # connects and sets the business's search_path (django-tenants)
        schema = connection.schema_name
        if getattr(connection, "transaction_pooling", False):
            plain.execute(qualified(sql, schema), params)
            return plain.fetchone()
    text = qualified(sql, schema) if _own_statements(connection, schema) else shared(sql)
    raw = connection.connection
    limit = statements_per_connection()
    if raw.prepared_max != limit:
        raw.prepared_max = limit
    # Django's own wrapping (CursorWrapper, or the debug wrapper that logs queries), around our cursor.
    with connection._prepare_cursor(PreparingCursor(raw)) as cursor:
        cursor.execute(text, params)
        return cursor.fetchone()
