from io import StringIO

from django.core.management import call_command
from django.db import connection
from django_tenants.signals import schema_migrated

from termino.platform.tenancy import services
from termino.platform.tenancy.management.commands.migrate_tenants import expected_migrations, schemas_behind
from termino.platform.tenancy.models import Tenant

NEWEST_CRM = ("crm", "0004_customer_processing_restricted")


def test_only_schemas_lacking_a_migration_are_migrated(committed_db, business_a):
    spare = services.spare_schema_create()
    try:
        # Stale, as if the spare had been filled before crm's newest migration existed.
        call_command(
            "migrate_schemas",
            "crm",
            "0003_customer_tags_notes",
            schema_name=spare.schema_name,
            interactive=False,
            verbosity=0,
        )
        connection.set_schema_to_public()
        everyone = list(Tenant.objects.exclude(schema_name="public").values_list("schema_name", flat=True))
        assert schemas_behind(everyone, expected_migrations()) == [spare.schema_name]

        migrated = []

        def record(sender, schema_name, **kwargs):
            migrated.append(schema_name)

        schema_migrated.connect(record)
        try:
            output = StringIO()
            call_command("migrate_tenants", tenant=True, interactive=False, verbosity=0, stdout=output)
        finally:
            schema_migrated.disconnect(record)
        assert migrated == [spare.schema_name]
        assert f"{len(everyone) - 1} up to date, 1 to migrate." in output.getvalue()
        assert f"all {len(everyone)} are up to date" in output.getvalue()
        with connection.cursor() as cursor:
            cursor.execute(
                f'SELECT count(*) FROM "{spare.schema_name}".django_migrations WHERE app = %s AND name = %s',
                list(NEWEST_CRM),
            )
            assert cursor.fetchone()[0] == 1

        output = StringIO()
        call_command("migrate_tenants", tenant=True, interactive=False, verbosity=0, stdout=output)
        assert f"{len(everyone)} up to date, 0 to migrate." in output.getvalue()
    finally:
        connection.set_schema_to_public()
        services.tenant_delete(tenant=Tenant.objects.get(pk=spare.pk))


def test_a_schema_without_a_migrations_table_counts_as_behind(committed_db, business_a):
    with connection.cursor() as cursor:
        cursor.execute('CREATE SCHEMA "empty_for_migrate_tenants"')
    try:
        assert schemas_behind(["empty_for_migrate_tenants", business_a.schema], expected_migrations()) == [
            "empty_for_migrate_tenants"
        ]
    finally:
        with connection.cursor() as cursor:
            cursor.execute('DROP SCHEMA "empty_for_migrate_tenants"')
