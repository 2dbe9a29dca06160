"""PostgreSQL operations that log a statement as the application wrote it: without the schema prefix, and
the prepared ones (prepared.py) too."""

from django.db.backends.postgresql.operations import DatabaseOperations as PostgresOperations
from psycopg import errors


class DatabaseOperations(PostgresOperations):
    def last_executed_query(self, cursor, sql, params):
        from .prepared import PreparingCursor

        if isinstance(cursor, PreparingCursor):
            # Bound server-side, so psycopg holds no client-side text: the statement with its values, as
            # Django shows one of its own (query logging, the tests' query counts).
            try:
                return self.compose_sql(sql, params)
            except errors.DataError:
                return sql
        text = super().last_executed_query(cursor, sql, params)
        prefix = getattr(cursor, "sent_prefix", None)  # set by cursors.SchemaLocalCursor
        if text and prefix and text.startswith(prefix):
            return text[len(prefix) :]
        return text
