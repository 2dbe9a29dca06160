"""Prepared statements for the few hot reads whose planning costs more than running them.

The availability statement (one statement for everything the engine needs) took PostgreSQL about 0.4 ms
to parse and 1.2 ms to plan, and 0.5 ms to run, for one staff member's day. Prepared once per connection,
PostgreSQL plans it for the first five executions and then, when a plan for any parameters is as good
(`plan_cache_mode = auto`), keeps that one: the same request then costs the run alone.

Django's cursors bind parameters client-side and never prepare (`prepare_threshold` is None, as
connection poolers in transaction mode need). `cursor()` here hands out a psycopg cursor with server-side
binding that prepares its statements, wrapped like Django's own, so query logging and counting see them.
Each business has its own schema, and PostgreSQL re-plans a prepared statement when `search_path` is no
longer the one it was planned under, so a plan never reads another business's tables. Under transaction
pooling (PgBouncer in transaction mode) a prepared statement would stay on a server connection another
client gets next: there `cursor()` is Django's ordinary cursor.

Results come back in PostgreSQL's binary format: the statements return arrays of thousands of epoch
microseconds, which psycopg reads as plain integers instead of parsing their digits (0.7 ms of a 30-day
visit's 4.8). The statements return numbers, arrays and `json` only, which read back the same either way.
"""

import psycopg
from django.db import DEFAULT_DB_ALIAS, connections
from psycopg import pq

# psycopg prepares only when a threshold is set; this one is never reached by counting, so only statements
# executed through PreparingCursor are prepared, never Django's (which are client-side bound anyway).
_EXPLICIT_ONLY = 2**31 - 1


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


def cursor(using: str = DEFAULT_DB_ALIAS):
    """A cursor of the connection `using`, in the current business's schema, that prepares its statements
    (Django's ordinary cursor under transaction pooling)."""
    connection = connections[using]
    plain = connection.cursor()  # connects and sets the business's search_path (django-tenants)
    if getattr(connection, "transaction_pooling", False):
        return plain
    plain.close()
    # Django's own wrapping (CursorWrapper, or the debug wrapper that logs queries), around our cursor.
    return connection._prepare_cursor(PreparingCursor(connection.connection))
