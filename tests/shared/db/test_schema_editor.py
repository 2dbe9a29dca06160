"""A business schema has no LIKE-only second index on its unique text columns; `public` keeps Django's."""

import importlib

import pytest
from django.db import connection
from django_tenants.utils import schema_context

pytestmark = pytest.mark.django_db

LIKE_ONLY = "SELECT indexname FROM pg_indexes WHERE schemaname = %s AND indexdef LIKE '%%_pattern_ops)'"
drop_like_indexes = importlib.import_module(
    "termino.tenants.business.migrations.0004_no_like_indexes"
).drop_like_indexes


def rows(query, params):
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def test_a_migrated_business_has_no_like_only_index_and_keeps_its_unique_ones(business_a):
    assert rows(LIKE_ONLY, [business_a.schema]) == []
    unique = rows(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND tablename = 'scheduling_appointment'"
        " AND indexdef LIKE 'CREATE UNIQUE INDEX %%(manage_token)'",
        [business_a.schema],
    )
    assert len(unique) == 1  # the token is still found by its own index, and still unique


def test_public_keeps_djangos_like_indexes(business_a):
    assert {"tenancy_domain_domain_5872c729_like", "tenancy_tenant_slug_0716575e_like"} <= {
        name for (name,) in rows(LIKE_ONLY, ["public"])
    }


def test_the_migration_drops_what_an_older_version_made(business_a):
    with schema_context(business_a.schema), connection.cursor() as cursor:
        cursor.execute(
            "CREATE INDEX scheduling_appointment_manage_token_96b4a25e_like"
            " ON scheduling_appointment (manage_token varchar_pattern_ops)"
        )
        cursor.execute("CREATE INDEX crm_customer_last_name_plain ON crm_customer (last_name)")
        assert len(rows(LIKE_ONLY, [business_a.schema])) == 1
        with connection.schema_editor() as editor:
            drop_like_indexes(None, editor)
        assert rows(LIKE_ONLY, [business_a.schema]) == []
        # An index of its own kind stays.
        assert rows(
            "SELECT 1 FROM pg_indexes WHERE schemaname = %s AND indexname = 'crm_customer_last_name_plain'",
            [business_a.schema],
        ) == [(1,)]


@pytest.mark.parametrize(("schema", "like_index"), [("business", False), ("public", True)])
def test_a_new_unique_text_column_gets_a_like_index_only_in_public(business_a, schema, like_index):
    from termino.tenants.scheduling.models import Appointment

    field = Appointment._meta.get_field("manage_token")
    with (
        schema_context(business_a.schema if schema == "business" else "public"),
        connection.schema_editor(collect_sql=True) as editor,
    ):
        statements = [str(s) for s in editor._field_indexes_sql(Appointment, field)]
    assert any("varchar_pattern_ops" in s for s in statements) is like_index
