"""Introspection of the current schema alone, without a session-level SET (transaction pooling).

django-tenants narrows the search_path to the current schema around each catalog query with a
session-level `SET search_path` and sets the old value back afterwards: three statements that PgBouncer
may run on three server connections. Here the SET LOCAL that every statement carries leaves `public`
out instead, for the duration of the call.
"""

from contextlib import contextmanager

import django.db.backends.postgresql.base  # noqa: F401  (before introspection: see django-tenants)
from django.db.backends.postgresql.introspection import DatabaseIntrospection


class SchemaLocalIntrospection(DatabaseIntrospection):
    @contextmanager
    def _current_schema_only(self):
        db = self.connection
        include_public, db.include_public_schema = db.include_public_schema, False
        try:
            yield
        finally:
            db.include_public_schema = include_public

    def get_table_list(self, cursor):
        with self._current_schema_only():
            return super().get_table_list(cursor)

    def get_table_description(self, cursor, table_name):
        with self._current_schema_only():
            return super().get_table_description(cursor, table_name)

    def get_sequences(self, cursor, table_name, table_fields=()):
        with self._current_schema_only():
            return super().get_sequences(cursor, table_name, table_fields)

    def get_key_columns(self, cursor, table_name):
        with self._current_schema_only():
            return super().get_key_columns(cursor, table_name)

    def get_constraints(self, cursor, table_name):
        with self._current_schema_only():
            return super().get_constraints(cursor, table_name)
