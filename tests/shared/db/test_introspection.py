"""The table list by namespace is Django's table list, in the platform's schema and in a business's."""

import pytest
from django.db import connection
from django.db.backends.postgresql.introspection import DatabaseIntrospection
from django_tenants.postgresql_backend.introspection import DatabaseSchemaIntrospectionSearchPathContext
from django_tenants.utils import schema_context

from termino.shared.db.introspection import SchemaIntrospection

pytestmark = pytest.mark.django_db


def djangos_table_list(cursor):
    """Django's own query (pg_table_is_visible), with the path narrowed as django-tenants does."""
    with DatabaseSchemaIntrospectionSearchPathContext(cursor=cursor, connection=connection):
        return DatabaseIntrospection.get_table_list(connection.introspection, cursor)


@pytest.mark.parametrize("where", ["public", "business"])
def test_same_tables_as_djangos_query(where, business_a):
    schema = "public" if where == "public" else business_a.schema
    assert isinstance(connection.introspection, SchemaIntrospection)
    with schema_context(schema), connection.cursor() as cursor:
        ours = sorted(connection.introspection.get_table_list(cursor))
        assert ours == sorted(djangos_table_list(cursor))
    names = {table.name for table in ours}
    assert "django_migrations" in names
    assert ("crm_customer" in names) == (where == "business")
