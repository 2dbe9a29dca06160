"""Migration accounts.0004 drops DRF's plaintext authtoken table of each business, and nothing else."""

import importlib

import pytest
from django.apps import apps
from django.db import connection
from django_tenants.utils import schema_context

pytestmark = pytest.mark.django_db

migration = importlib.import_module("termino.tenants.accounts.migrations.0004_api_token")


def old_tokens_table(schema: str) -> None:
    """What a business migrated before 0004 had: authtoken's table with a key in clear, and its records."""
    with schema_context(schema), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamptz NOT NULL,"
            " user_id bigint NOT NULL)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token VALUES"
            " ('0123456789abcdef0123456789abcdef01234567', '2026-01-01T00:00:00Z', 1)"
        )
        cursor.execute(
            "INSERT INTO django_migrations (app, name, applied) VALUES"
            " ('authtoken', '0001_initial', '2026-01-01T00:00:00Z'),"
            " ('authtoken', '0004_alter_tokenproxy_options', '2026-01-01T00:00:00Z')"
        )


def state(schema: str) -> tuple[bool, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f'"{schema}".authtoken_token'])
        table = cursor.fetchone()[0]
        cursor.execute(f'SELECT count(*) FROM "{schema}".django_migrations WHERE app = %s', ["authtoken"])
        return table, cursor.fetchone()[0]


def test_the_plaintext_tokens_of_the_migrated_schema_are_dropped(business_a, business_b):
    old_tokens_table(business_a.schema)
    old_tokens_table(business_b.schema)
    with schema_context(business_a.schema), connection.schema_editor() as editor:
        migration.drop_plaintext_tokens(apps, editor)
    assert state(business_a.schema) == (False, 0)
    assert state(business_b.schema) == (True, 2)  # another schema is migrated on its own turn
    with schema_context(business_a.schema), connection.schema_editor() as editor:
        migration.drop_plaintext_tokens(apps, editor)  # again, and in `public` (never had it): no error
    with connection.schema_editor() as editor:
        migration.drop_plaintext_tokens(apps, editor)
    assert state("public") == (False, 0)
