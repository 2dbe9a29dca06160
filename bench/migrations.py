"""Many tenants: deploy-time migrations, catalog size, per-connection catalog cache and pg_dump, N schemas.

`.venv/bin/python bench/migrations.py [N=500]` — several minutes at N=500. N migrated business schemas are
cloned from one migrated schema (bench/catalog.py says how) and registered as tenants with a domain each,
so `migrate_schemas` sees them as it sees real businesses. Then, with N tenants:

- `migrate_schemas --tenant` with nothing to apply (every deploy), standard executor vs multiprocessing;
- a deploy applying one new migration to every tenant (crm 0004, an AddField: rolled back first, the
  rollback timed on its own), standard vs multiprocessing;
- catalog rows and bytes per tenant schema, the catalog cache of one connection after touching 1, 100
  and N schemas, and pg_dump here and against a server with PostgreSQL's default lock table;
- a linear extrapolation of those to 1k, 10k and 100k tenants.

Migrations run as the deploy runs them: `manage.py migrate_schemas` in a subprocess (Django start-up
included; `migrate_startup` measures that fixed part), output discarded.
"""

import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import catalog
from _harness import ROOT, emit, log, setup_django

# The migration a "one new migration" deploy applies: an AddField, a leaf of its app (nothing depends on it).
NEW_MIGRATION = ("crm", "0004_customer_processing_restricted")
BEFORE_NEW_MIGRATION = "0003_customer_tags_notes"
# A request in the backoffice reads a handful of tables; these two stand for it in the cache measure.
TOUCHED_TABLES = ["crm_customer", "scheduling_appointment"]
EXTRAPOLATE_TO = (1_000, 10_000, 100_000)
PROCESSES = "2"  # the machine has two cores


def migrate_schemas(*args: str, command: str = "migrate_schemas") -> float:
    """Seconds for one `manage.py <command> --noinput <args>` run; raises with its output on failure."""
    env = {**os.environ, "TENANT_MIGRATION_PROCESSES": PROCESSES}
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), command, "--noinput", *args],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
            check=False,
        )
        elapsed = time.perf_counter() - started
        if result.returncode != 0:
            output.seek(0)
            tail = output.read().decode(errors="replace")[-3000:]
            raise RuntimeError(f"{command} {' '.join(args)} failed ({result.returncode}):\n{tail}")
    return elapsed


def applied_everywhere(conn, schemas: list[str], app: str, name: str) -> int:
    """In how many of `schemas` the migration is recorded as applied."""
    from psycopg import sql

    count = 0
    for schema in schemas:
        count += conn.execute(
            sql.SQL("SELECT count(*) FROM {}.django_migrations WHERE app = %s AND name = %s").format(
                sql.Identifier(schema)
            ),
            [app, name],
        ).fetchone()[0]
    return count


def timed_migration(
    measure: str,
    n: int,
    args: list[str],
    executor: str,
    command: str = "migrate_schemas",
    *,
    startup_s: float,
    **extra,
) -> dict:
    cli = ["--tenant", *args] + (["--executor=multiprocessing"] if executor == "multiprocessing" else [])
    log(f"{measure}: {command} {' '.join(cli)} over {n} tenants ...")
    load_before = os.getloadavg()[0]
    seconds = migrate_schemas(*cli, command=command)
    result = {
        "bench": measure,
        "command": command,
        "executor": executor,
        "processes": int(PROCESSES) if executor == "multiprocessing" else 1,
        "tenants": n,
        "total_s": round(seconds, 1),
        "per_tenant_ms": round(seconds / n * 1000, 1),
        # The process start and Django set-up are paid once per run, not per tenant.
        "per_tenant_ms_without_startup": round(max(seconds - startup_s, 0) / n * 1000, 1),
        "startup_s": round(startup_s, 2),
        # The machine is shared: the 1-minute load average (2 cores) says how busy it was.
        "load_1m_before_after": [round(load_before, 1), round(os.getloadavg()[0], 1)],
        **extra,
    }
    emit(**result)
    return result


def main(n: int) -> None:
    import psycopg

    setup_django("termino_bench_migrations")
    from termino.platform.tenancy import services
    from termino.platform.tenancy.models import Domain, Tenant, TenantStatus

    url = os.environ["DATABASE_URL"]
    conn = psycopg.connect(url, autocommit=True)
    settings_here = catalog.server_settings(conn)
    emit(bench="server_settings", server="embedded bench server", **settings_here)
    public_tables = catalog.tables_in(conn, ["public"])

    # --- N tenant schemas, cloned -------------------------------------------------------------------
    started = time.perf_counter()
    source = services.spare_schema_create()
    migrate_one = time.perf_counter() - started
    source_sql = catalog.clone_source_sql(url, source.schema_name)
    services.tenant_delete(tenant=source)
    before = catalog.catalog_snapshot(conn)

    names = [f"t_bench_{i:06d}" for i in range(n)]
    log(f"cloning {n} tenant schemas ...")
    started = time.perf_counter()
    catalog.clone_schemas(
        url, source_sql, source.schema_name, names, lambda done: done % 100 == 0 and log(f"  {done}/{n}")
    )
    clone_s = time.perf_counter() - started
    tenants = Tenant.objects.bulk_create(
        Tenant(schema_name=name, slug=name[2:].replace("_", "-"), status=TenantStatus.ACTIVE, name=name)
        for name in names
    )
    Domain.objects.bulk_create(
        Domain(domain=services.business_host(t.slug), tenant=t, is_primary=True) for t in tenants
    )
    emit(
        bench="tenants_create",
        load_1m=round(os.getloadavg()[0], 1),
        tenants=n,
        migrate_one_schema_s=round(migrate_one, 2),
        clone_total_s=round(clone_s, 1),
        clone_per_schema_ms=round(clone_s / n * 1000, 1),
        method="pg_dump -n <migrated schema> --inserts, replayed under each name; tenant + domain rows",
    )

    # --- what a tenant schema is made of, and what N of them cost the catalogs -----------------------
    objects = catalog.schema_objects(conn, names[0])
    emit(bench="tenant_schema_objects", schema=names[0], **objects)
    after = catalog.catalog_snapshot(conn)
    per_tenant = {
        name: {
            "rows": round((after[name]["rows"] - before[name]["rows"]) / n, 1),
            "bytes": round((after[name]["bytes"] - before[name]["bytes"]) / n),
        }
        for name in catalog.CATALOGS
    }
    catalog_per_tenant = (after["pg_catalog_total_bytes"] - before["pg_catalog_total_bytes"]) / n
    database_per_tenant = (after["database_bytes"] - before["database_bytes"]) / n
    emit(
        bench="catalog_per_tenant",
        tenants=n,
        pg_catalog_bytes_per_tenant=round(catalog_per_tenant),
        database_bytes_per_tenant=round(database_per_tenant),
        pg_catalog_total_bytes_before=before["pg_catalog_total_bytes"],
        pg_catalog_total_bytes_after=after["pg_catalog_total_bytes"],
        per_catalog=per_tenant,
    )

    # --- Django's table list, which every migrate runs several times per schema ---------------------------
    table_list = {
        "django_query_ms": round(catalog.table_list_ms(conn, names[0], catalog.DJANGO_TABLE_LIST), 1),
        "schema_only_query_ms": round(catalog.table_list_ms(conn, names[0], catalog.SCHEMA_TABLE_LIST), 1),
    }
    emit(
        bench="django_table_list",
        tenants=n,
        pg_class_rows=conn.execute("SELECT count(*) FROM pg_class").fetchone()[0],
        **table_list,
        load_1m=round(os.getloadavg()[0], 1),
    )

    # --- the catalog cache one connection builds up --------------------------------------------------
    cache_per_schema = {}
    for label, tables in (("2 tables", TOUCHED_TABLES), ("all tables", None)):
        with psycopg.connect(url, autocommit=True) as probe:
            if tables is None:
                tables = [
                    row[0]
                    for row in probe.execute(
                        "SELECT relname FROM pg_class"
                        " WHERE relnamespace = %s::regnamespace AND relkind = 'r'",
                        [names[0]],
                    )
                ]
            points = {"0": catalog.cache_memory(probe)}
            touched = 0
            for target in sorted({1, min(100, n), n}):
                catalog.touch_schemas(probe, names[touched:target], tables)
                touched = target
                points[str(target)] = catalog.cache_memory(probe)
        grown = {key: round((points[str(n)][key] - points["1"][key]) / max(n - 1, 1)) for key in points["0"]}
        cache_per_schema[label] = grown
        emit(
            bench="connection_catalog_cache",
            touched_per_schema=label,
            tables_per_schema=len(tables),
            bytes_after_touching=points,
            bytes_per_schema=grown,
        )

    # --- migrations at deploy time --------------------------------------------------------------------
    startup = migrate_schemas("--tenant", f"--schema={names[0]}")
    emit(
        bench="migrate_startup",
        what="migrate_schemas --tenant --schema=<one>: process start + 1 tenant",
        total_s=round(startup, 2),
    )
    # (key, command, executor, extra arguments): what the deploy runs today, in parallel, leaner, and ours.
    variants = [
        ("standard", "migrate_schemas", "standard", []),
        ("multiprocessing", "migrate_schemas", "multiprocessing", []),
        ("multiprocessing_lean", "migrate_schemas", "multiprocessing", ["--skip-checks", "--verbosity=0"]),
        ("migrate_tenants", "migrate_tenants", "multiprocessing", []),
    ]
    noop = {
        key: timed_migration("migrate_noop", n, extra, executor, command, startup_s=startup, arguments=extra)
        for key, command, executor, extra in variants
    }
    app, migration = NEW_MIGRATION
    one = {}
    for key, command, executor, extra in variants:
        if key == "multiprocessing_lean":
            continue  # same work as multiprocessing once a migration runs; one fewer rollback
        timed_migration(
            "migrate_rollback_one",
            n,
            [app, BEFORE_NEW_MIGRATION],
            "multiprocessing",
            startup_s=startup,
            migration=f"{app}.{migration} (reverse)",
        )
        if applied_everywhere(conn, names, app, migration):
            raise RuntimeError(f"{app}.{migration} still recorded after the rollback")
        one[key] = timed_migration(
            "migrate_one_new", n, extra, executor, command, startup_s=startup, migration=f"{app}.{migration}"
        )
        applied = applied_everywhere(conn, names, app, migration)
        if applied != n:
            raise RuntimeError(f"{app}.{migration} applied in {applied} of {n} schemas after {command}")

    # --- pg_dump: here, and with PostgreSQL's default lock table ---------------------------------------
    tables = catalog.tables_in(conn)
    tenant_tables = objects["tables"]
    with tempfile.TemporaryDirectory() as scratch:
        dump = Path(scratch) / "all.dump"
        ok, seconds, error = catalog.pg_dump_run(url, dump)
        emit(
            bench="pg_dump",
            load_1m=round(os.getloadavg()[0], 1),
            server="embedded bench server",
            succeeded=ok,
            total_s=round(seconds, 1),
            tables=tables,
            dump_bytes=dump.stat().st_size if ok else None,
            max_locks_per_transaction=settings_here["max_locks_per_transaction"],
            max_connections=settings_here["max_connections"],
            error=error or None,
        )
        if not ok:
            raise RuntimeError(f"pg_dump failed on the bench server: {error}")
        mb_per_lock_unit = dump_defaults(dump, tables, n)
    conn.close()

    # --- linear extrapolation -----------------------------------------------------------------------------
    def per(result: dict) -> float:
        # Without the fixed start-up, unless the run was hardly longer than it (migrate_tenants, no-op).
        if result["total_s"] < 2 * result["startup_s"]:
            return result["per_tenant_ms"] / 1000
        return result["per_tenant_ms_without_startup"] / 1000

    extrapolation = {}
    for k in EXTRAPOLATE_TO:
        k_tables = public_tables + k * tenant_tables
        extrapolation[str(k)] = {
            **{f"deploy_noop_{key}_min": round(per(result) * k / 60, 1) for key, result in noop.items()},
            **{
                f"deploy_one_migration_{key}_min": round(per(result) * k / 60, 1)
                for key, result in one.items()
            },
            "pg_catalog_mb": round(catalog_per_tenant * k / 1e6, 1),
            "empty_database_mb": round(database_per_tenant * k / 1e6, 1),
            "catalog_cache_of_one_connection_mb": {
                label: round(grown["cache"] * k / 1e6, 1) for label, grown in cache_per_schema.items()
            },
            # Grows with ALL tables, and every migrate runs it ~4 times per schema: the per-tenant cost of a
            # deploy rises with the tenant count (the deploy rows above assume it does not).
            "django_table_list_ms": round(table_list["django_query_ms"] * k / n, 1),
            "tables_pg_dump_locks": k_tables,
            "max_locks_per_transaction_needed_at_100_connections": math.ceil(k_tables / 100),
            "shared_memory_for_that_lock_table_mb": (
                round(mb_per_lock_unit * math.ceil(k_tables / 100)) if mb_per_lock_unit else None
            ),
        }
    emit(
        bench="extrapolation",
        method="LINEAR extrapolation of the per-tenant figures measured at N (migrations: without start-up)",
        n=n,
        tenants=extrapolation,
    )


def dump_defaults(dump: Path, tables: int, n: int) -> float | None:
    """Restore the dump into a server with the default lock table, then pg_dump it there. Returns the
    shared memory (MB) one unit of max_locks_per_transaction costs, if it had to be raised."""
    import psycopg

    defaults = {"max_connections": "100", "max_locks_per_transaction": "64"}
    server = catalog.ScratchServer(defaults)
    try:
        log("starting a scratch server with PostgreSQL's default lock settings ...")
        server.start()
        server.ensure_database("restored")
        url = server.url_for("restored")
        with psycopg.connect(url, autocommit=True) as conn:
            emit(bench="server_settings", server="scratch server (defaults)", **catalog.server_settings(conn))
            shmem_64 = catalog.shared_memory_mb(conn)
        log(f"pg_restore of {n} tenants into it ...")
        restore_s = catalog.pg_restore_run(url, dump)
        emit(
            bench="pg_restore",
            load_1m=round(os.getloadavg()[0], 1),
            tenants=n,
            jobs=2,
            total_s=round(restore_s, 1),
        )

        ok, seconds, error = catalog.pg_dump_run(url, Path(server._scratch) / "again.dump")
        capacity = catalog.lock_capacity(url)
        emit(
            bench="pg_dump",
            load_1m=round(os.getloadavg()[0], 1),
            server="scratch server (defaults)",
            succeeded=ok,
            total_s=round(seconds, 1),
            tables=tables,
            max_locks_per_transaction=64,
            max_connections=100,
            tables_one_transaction_can_lock=capacity,
            error=error or None,
        )

        # The documented size of the lock table: max_locks_per_transaction × (max_connections +
        # max_prepared_transactions) lock slots, shared by all sessions.
        if ok:
            return None
        needed = math.ceil(tables / 100)
        server.restart({"max_locks_per_transaction": str(needed)})
        with psycopg.connect(url, autocommit=True) as conn:
            shmem_needed = catalog.shared_memory_mb(conn)
        ok, seconds, error = catalog.pg_dump_run(url, Path(server._scratch) / "again.dump")
        emit(
            bench="pg_dump",
            load_1m=round(os.getloadavg()[0], 1),
            server="scratch server (defaults)",
            succeeded=ok,
            total_s=round(seconds, 1),
            tables=tables,
            max_locks_per_transaction=needed,
            max_connections=100,
            rule="max_locks_per_transaction >= tables / (max_connections + max_prepared_transactions)",
            tables_one_transaction_can_lock=catalog.lock_capacity(url),
            shared_memory_size_mb={"64": shmem_64, str(needed): shmem_needed},
            shared_memory_mb_per_lock_unit=round((shmem_needed - shmem_64) / (needed - 64), 3),
            error=error or None,
        )
        return (shmem_needed - shmem_64) / (needed - 64)
    finally:
        server.remove()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
