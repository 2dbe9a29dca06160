"""Introspection of the current schema alone: cheap with thousands of schemas, and without a session-level
SET under transaction pooling.

Django lists tables with `pg_table_is_visible(oid)`, evaluated for every relation of every schema:
21 ms per call with 500 businesses (98,000 relations), called about four times per schema by each
`migrate` — a deploy grew with the square of the number of businesses. Both modes here narrow the path to
the current schema first, so "visible" means "in one of the current_schemas()": 1.8 ms at 500
(bench/migrations.py, django_table_list).

django-tenants narrows the search_path to the current schema around each catalog query with a
session-level `SET search_path` and sets the old value back afterwards: three statements that PgBouncer
may run on three server connections. Here the SET LOCAL that every statement carries leaves `public`
out instead, for the duration of the call.
"""

from contextlib import contextmanager

import django.db.backends.postgresql.base  # noqa: F401  (before introspection: see django-tenants)
from django.db.backends.postgresql.introspection import DatabaseIntrospection, TableInfo
from django_tenants.postgresql_backend.introspection import (
    DatabaseSchemaIntrospection,
    DatabaseSchemaIntrospectionSearchPathContext,
)


class CurrentSchemaTables:
    """Django's table list, matched by namespace instead of testing every relation's visibility."""

    def _table_list(self, cursor):
        cursor.execute("""
            SELECT c.relname,
                   CASE WHEN c.relispartition THEN 'p' WHEN c.relkind IN ('m', 'v') THEN 'v' ELSE 't' END,
                   obj_description(c.oid, 'pg_class')
            FROM pg_catalog.pg_class c
            WHERE c.relkind IN ('f', 'm', 'p', 'r', 'v')
                AND c.relnamespace = ANY (current_schemas(false)::regnamespace[])
        """)
        return [TableInfo(*row) for row in cursor.fetchall() if row[0] not in self.ignored_tables]


class SchemaIntrospection(CurrentSchemaTables, DatabaseSchemaIntrospection):
    """Session mode: django-tenants narrows the search_path to the current schema around each call."""

    def get_table_list(self, cursor):
        with DatabaseSchemaIntrospectionSearchPathContext(cursor=cursor, connection=self.connection):
            return self._table_list(cursor)


class SchemaLocalIntrospection(CurrentSchemaTables, DatabaseIntrospection):
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
            return self._table_list(cursor)

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
