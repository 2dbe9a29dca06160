"""The psycopg cursor of transaction pooling: every statement carries its schema in its own transaction.

Behind PgBouncer in transaction mode each transaction (in autocommit: each statement) may run on a
different server connection, so django-tenants' session-level `SET search_path` stays behind on a server
connection that another client, of another business, gets next. Here the schema travels with the
statement instead:

- `execute()` sends `SET LOCAL search_path = "<schema>", "public"; <statement>` as ONE simple-protocol
  query. PostgreSQL runs the statements of one query message in one transaction (an implicit one in
  autocommit), PgBouncer never splits a transaction, and SET LOCAL ends with the transaction: the path
  applies to this statement on whichever server connection runs it and to nothing else. Inside
  `atomic()` every statement still carries it: a ROLLBACK TO SAVEPOINT undoes a SET LOCAL made after the
  savepoint, so setting it once per transaction is not enough, and the SET costs no round trip.
  Then the cursor moves to the statement's own result (`nextset()`), so fetch*, rowcount, description
  and statusmessage are the statement's.
- Parameters are merged client-side first (`mogrify`, exactly what `execute()` would do: Django's cursor
  is psycopg's `ClientCursor`), and the merged text is sent without parameters, so the prefix never
  meets psycopg's `%` placeholder parsing and psycopg's query cache keeps one entry per ORM query, not
  one per query and schema.
- `executemany()`, `copy()` and `stream()` send their statement alone (pipeline, COPY and single-row
  mode allow one statement per query), so they run in a transaction that starts with the SET LOCAL;
  in autocommit that is a transaction of their own.

Django's cursor wrappers call `execute()` once per statement with the original SQL, so query counting
(`assertNumQueries`) is unchanged; `operations.DatabaseOperations` strips the prefix from the logged SQL.
"""

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

import psycopg
from django.db.backends.postgresql.base import Cursor
from psycopg import pq, sql

from .statements import Kind, statement_kind

_IDLE = pq.TransactionStatus.IDLE


class SchemaLocalCursor(Cursor):
    # The DatabaseWrapper whose current schema the statements run in. Cursors psycopg or Django open
    # without it (health check, time zone) send their statements as they are.
    tenant_db = None
    # The prefix sent with the last execute(), for operations.last_executed_query().
    sent_prefix: str | None = None

    def execute(self, query, params=None, *, prepare=None, binary=None):
        prefix = self._prefix(query)
        self.sent_prefix = prefix
        if prefix is None:
            return super().execute(query, params, prepare=prepare, binary=binary)
        super().execute(prefix + self.mogrify(query, params), prepare=prepare, binary=binary)
        self.nextset()  # the statement's result, not the SET's
        return self

    def executemany(self, query, params_seq, *, returning=False):
        prefix = self._prefix(query)
        if prefix is None:
            return super().executemany(query, params_seq, returning=returning)
        with self._transaction():
            super().execute(prefix)
            return super().executemany(query, params_seq, returning=returning)

    @contextmanager
    def copy(self, statement, params=None, *, writer=None) -> Iterator[psycopg.Copy]:
        prefix = self._prefix(statement)
        with nullcontext() if prefix is None else self._transaction():
            if prefix is not None:
                super().execute(prefix)
            with super().copy(statement, params, writer=writer) as copy:
                yield copy

    def stream(self, query, params=None, *, binary=None, size=1):
        prefix = self._prefix(query)
        with nullcontext() if prefix is None else self._transaction():
            if prefix is not None:
                super().execute(prefix)
            yield from super().stream(query, params, binary=binary, size=size)

    def _prefix(self, query) -> str | None:
        """`SET LOCAL search_path = …; ` for this statement, or None to send it as it is."""
        db = self.tenant_db
        if db is None:
            return None
        kind = statement_kind(self._text(query))
        if kind is Kind.SCHEMA_LOCAL:
            return db.search_path_local_sql()
        if kind is Kind.TRANSACTION_CONTROL:
            return None
        if kind is Kind.OUTSIDE_TRANSACTION:
            if db.schema_name == db.public_schema_name:
                return None  # runs with the server's default search_path, which has `public`
            raise psycopg.NotSupportedError(
                f"This statement cannot run inside a transaction, so under transaction pooling it cannot "
                f"carry the schema {db.schema_name!r} either: run it over a direct or session-mode "
                f"connection (DATABASE_POOL_MODE=session)."
            )
        raise psycopg.NotSupportedError(
            "Session state (SET without LOCAL, RESET, LISTEN, PREPARE, temporary tables, WITH HOLD "
            "cursors) outlives the transaction and stays on a server connection that PgBouncer hands to "
            "other clients: not allowed with DATABASE_POOL_MODE=transaction. Use SET LOCAL inside "
            "transaction.atomic()."
        )

    def _text(self, query) -> str:
        if isinstance(query, str):
            return query
        if isinstance(query, bytes):
            return query.decode(self.connection.info.encoding, "replace")
        if isinstance(query, sql.Composable):
            return query.as_string(self)
        return str(query)

    def _transaction(self):
        """A transaction around a statement that must follow a SET LOCAL: the caller's, or a new one."""
        conn = self.connection
        if conn.autocommit and conn.info.transaction_status == _IDLE:
            return conn.transaction()
        return nullcontext()
