"""PostgreSQL operations that log a statement as the application wrote it, without the schema prefix."""

from django.db.backends.postgresql.operations import DatabaseOperations as PostgresOperations


class DatabaseOperations(PostgresOperations):
    def last_executed_query(self, cursor, sql, params):
        text = super().last_executed_query(cursor, sql, params)
        prefix = getattr(cursor, "sent_prefix", None)  # set by cursors.SchemaLocalCursor
        if text and prefix and text.startswith(prefix):
            return text[len(prefix) :]
        return text
