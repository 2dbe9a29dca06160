"""`migrate_schemas`, minus the tenant schemas that have nothing to apply, plus a summary.

`migrate_schemas` runs Django's whole `migrate` command in every tenant schema on every deploy. In a
schema with nothing to apply that still costs a few hundred milliseconds (system checks, the migration
graph, the model-change autodetector, post_migrate), which adds up to many minutes per deploy with
thousands of businesses (bench/migrations.py). This command first reads every schema's django_migrations
(one small query per schema) and hands only the schemas that lack a migration to
django-tenants' executor: same options, same executors (--executor=multiprocessing), same per-schema
output. Then it checks those schemas again and prints what it did.

With a target (`app_label [migration_name]`), `--schema` or `--all-schemas` it does exactly what
`migrate_schemas` does: a rollback, or a post_migrate step wanted in every schema, needs every schema.
"""

import time

from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django_tenants.management.commands import SyncCommon
from django_tenants.management.commands.migrate_schemas import GET_EXECUTOR_FUNCTION
from django_tenants.management.commands.migrate_schemas import Command as MigrateSchemasCommand
from django_tenants.utils import (
    get_public_schema_name,
    get_tenant_migration_order,
    get_tenant_model,
    has_multi_type_tenants,
)
from psycopg import sql

# A fresh server connection after this many schemas: a backend caches the catalog entries of every table
# it touched and never gives them back.
SCHEMAS_PER_CONNECTION = 1000


def expected_migrations() -> set[tuple[str, str]]:
    """Every migration of the project, as django_migrations records it (all apps, in every schema)."""
    return set(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)


def schemas_behind(schemas: list[str], expected: set[tuple[str, str]]) -> list[str]:
    """The schemas (in the given order) whose django_migrations lacks any expected migration.

    One query per schema, never one across schemas: under Citus schema-based sharding each business
    schema lives on its own node, and a statement naming two of them is a distributed query.
    """
    apps, names = (list(column) for column in zip(*sorted(expected), strict=True)) if expected else ([], [])
    with connection.cursor() as cursor:
        # The catalog alone (on the coordinator under Citus): which schemas have a migrations table at all.
        cursor.execute(
            "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relname = 'django_migrations' AND c.relkind = 'r'"
        )
        with_table = {row[0] for row in cursor.fetchall()}
    behind = []
    for done, schema in enumerate(schemas):
        if schema not in with_table:
            behind.append(schema)
            continue
        if done and done % SCHEMAS_PER_CONNECTION == 0:
            connection.close()
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL(
                    "SELECT count(DISTINCT (app, name)) FROM {} "
                    "WHERE (app, name) IN (SELECT * FROM unnest(%s::text[], %s::text[]))"
                )
                .format(sql.Identifier(schema, "django_migrations"))
                .as_string(cursor.connection),
                [apps, names],
            )
            if cursor.fetchone()[0] != len(expected):
                behind.append(schema)
    return behind


class Command(MigrateSchemasCommand):
    help = (
        "Like migrate_schemas, but skips tenant schemas that have every migration already, and prints "
        "a summary. Pass --executor=multiprocessing to migrate the rest in parallel."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--all-schemas",
            action="store_true",
            help="run migrate in every tenant schema, also those with nothing to apply (= migrate_schemas)",
        )

    def handle(self, *args, **options):
        # A Citus coordinator without the settings it needs fails here, before the first statement.
        self.check(tags=["citus"], databases=["default"])
        every = options.pop("all_schemas")
        if every or options["app_label"] or options["schema_name"] or has_multi_type_tenants():
            return super().handle(*args, **options)

        SyncCommon.handle(self, *args, **options)
        executor = GET_EXECUTOR_FUNCTION(codename=self.executor)(self.args, self.options)
        public = get_public_schema_name()
        if self.sync_public:
            executor.run_migrations(tenants=[public])
        if not self.sync_tenant:
            return

        started = time.monotonic()
        tenants = get_tenant_model().objects.exclude(schema_name=public)
        order = get_tenant_migration_order()
        if order is not None:
            tenants = tenants.order_by(*order)
        schemas = list(tenants.values_list("schema_name", flat=True))
        expected = expected_migrations()
        behind = schemas_behind(schemas, expected)
        self.stdout.write(
            f"Checked {len(schemas)} tenant schemas in {time.monotonic() - started:.1f} s: "
            f"{len(schemas) - len(behind)} up to date, {len(behind)} to migrate."
        )
        if not behind:
            return
        started = time.monotonic()
        executor.run_migrations(tenants=list(behind))
        connection.set_schema_to_public()
        still = schemas_behind(behind, expected)
        if still:
            listed = ", ".join(still[:20])
            raise CommandError(f"{len(still)} tenant schema(s) still lack migrations after migrate: {listed}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Migrated {len(behind)} tenant schema(s) in {time.monotonic() - started:.1f} s; "
                f"all {len(schemas)} are up to date."
            )
        )
