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
drop_pair_prefix_indexes = importlib.import_module(
    "termino.tenants.business.migrations.0005_no_index_a_pair_starts_with"
).drop_pair_prefix_indexes


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


# A table of Django's, whose model Termino does not own: an index of content_type beside the unique
# (content_type, codename).
DJANGOS_OWN = {"auth_permission"}


def test_no_index_of_a_business_is_the_start_of_another(business_a):
    """An index whose columns begin another btree index of the table serves nothing the longer one does
    not; each is one more relation per business and one more index per write (a foreign key whose column
    starts a constraint or index is declared `db_index=False`)."""
    found = rows(
        """
        WITH ix AS (
            SELECT i.indexrelid, i.indrelid, t.relname AS tablename, c.relname AS indexname,
                   string_to_array(i.indkey::text, ' ')::int[] AS columns, i.indisunique,
                   i.indpred IS NULL AND i.indexprs IS NULL AS plain, am.amname = 'btree' AS btree
            FROM pg_index i
            JOIN pg_class c ON c.oid = i.indexrelid
            JOIN pg_class t ON t.oid = i.indrelid
            JOIN pg_am am ON am.oid = c.relam
            WHERE t.relnamespace = %s::regnamespace
        )
        SELECT short.tablename, short.indexname, long.indexname
        FROM ix short JOIN ix long ON long.indrelid = short.indrelid AND long.indexrelid <> short.indexrelid
        WHERE short.btree AND long.btree AND short.plain AND long.plain AND NOT short.indisunique
          AND cardinality(short.columns) <= cardinality(long.columns)
          AND long.columns[1:cardinality(short.columns)] = short.columns
        ORDER BY 1, 2
        """,
        [business_a.schema],
    )
    assert [row for row in found if row[0] not in DJANGOS_OWN] == []
    assert {row[0] for row in found} == DJANGOS_OWN  # the query finds what it is meant to find


def test_every_constraint_and_index_the_models_declare_is_in_a_business(business_a):
    """What the models state as invariants exists in the database: a migration that alters a column must
    not take another index with it (Django's AlterField of a foreign key's db_index drops every index on
    the column that is not a unique constraint, a partial unique index included)."""
    from django.apps import apps

    names = {
        name
        for (name,) in rows(
            "SELECT conname FROM pg_constraint WHERE connamespace = %s::regnamespace"
            " UNION SELECT indexname FROM pg_indexes WHERE schemaname = %s",
            [business_a.schema, business_a.schema],
        )
    }
    tables = {
        name for (name,) in rows("SELECT tablename FROM pg_tables WHERE schemaname = %s", [business_a.schema])
    }
    declared = {
        (model._meta.db_table, item.name)
        for model in apps.get_models()
        if model._meta.db_table in tables and model._meta.managed
        for item in [*model._meta.constraints, *model._meta.indexes]
    }
    assert ("waitlist_offer", "waitlist_one_open_offer") in declared
    assert sorted(entry for entry in declared if entry[1] not in names) == []


@pytest.mark.parametrize(("schema", "indexed"), [("business", False), ("public", True)])
def test_a_many_to_many_tables_first_column_gets_no_index_of_its_own_in_a_business(
    business_a, schema, indexed
):
    from termino.tenants.scheduling.models import Resource

    through = Resource.services.through
    first, second = (through._meta.get_field(name) for name in through._meta.unique_together[0])
    with (
        schema_context(business_a.schema if schema == "business" else "public"),
        connection.schema_editor(collect_sql=True) as editor,
    ):
        assert bool(editor._field_indexes_sql(through, first)) is indexed
        assert editor._field_indexes_sql(through, second)  # the pair does not start with it


def test_the_migration_drops_the_first_columns_index_older_versions_made(business_a):
    table_indexes = "SELECT indexname FROM pg_indexes WHERE schemaname = %s AND tablename = %s ORDER BY 1"
    with schema_context(business_a.schema), connection.cursor() as cursor:
        before = rows(table_indexes, [business_a.schema, "scheduling_resource_services"])
        cursor.execute(
            "CREATE INDEX scheduling_resource_services_resource_id_7ab745e0"
            " ON scheduling_resource_services (resource_id)"
        )
        cursor.execute("CREATE INDEX accounts_user_groups_user_id_52b62117 ON accounts_user_groups (user_id)")
        with connection.schema_editor() as editor:
            drop_pair_prefix_indexes(None, editor)
        assert rows(table_indexes, [business_a.schema, "scheduling_resource_services"]) == before
        names = {name for (name,) in rows(table_indexes, [business_a.schema, "accounts_user_groups"])}
    assert "accounts_user_groups_user_id_52b62117" not in names
    assert "accounts_user_groups_user_id_group_id_59c0b32f_uniq" in names  # the pair stays
    assert any(name.startswith("accounts_user_groups_group_id_") for name in names)  # its second column's
