"""What many tenant schemas cost PostgreSQL itself; helpers for bench/migrations.py (not a benchmark alone).

- cloning: N migrated tenant schemas in minutes instead of N × migrating from scratch. One schema is
  migrated for real, dumped with `pg_dump -n <schema> --inserts` (DDL plus its rows: django_migrations,
  content types, permissions), and the dump text is replayed under each new name in one transaction
  per schema. The result is what `migrate_schemas` would have built, minus the catalog bloat that
  migrating leaves behind (ALTER TABLE rewrites leave dead catalog rows).
- the system catalogs' rows and bytes, and the catalog cache one connection builds up (PG 14+
  `pg_backend_memory_contexts`);
- pg_dump against a server with PostgreSQL's default lock table (`ScratchServer`), and the number of
  locks that table really holds (`lock_capacity`).
"""

import re
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import psycopg
from psycopg import sql

from termino.devserver.ports import find_free_port
from termino.devserver.postgres import EmbeddedPostgres, bin_dir

# The catalogs that grow with every table, index, column, constraint and sequence of a tenant schema.
CATALOGS = (
    "pg_class",
    "pg_attribute",
    "pg_index",
    "pg_constraint",
    "pg_depend",
    "pg_type",
    "pg_attrdef",
    "pg_sequence",
    "pg_statistic",
)
SERVER_SETTINGS = (
    "server_version",
    "max_connections",
    "max_locks_per_transaction",
    "max_prepared_transactions",
    "max_worker_processes",
    "autovacuum_worker_slots",
    "max_wal_senders",
    "shared_buffers",
    "fsync",
)


def _clean_env() -> dict[str, str]:
    import os

    # PG* variables of the caller (PGHOST, PGPORT ...) must not redirect the client binaries.
    return {key: value for key, value in os.environ.items() if not key.startswith("PG")}


# --- cloning -----------------------------------------------------------------------------------------


def clone_source_sql(database_url: str, schema: str) -> str:
    """A migrated schema as SQL that psycopg can replay (no COPY blocks, no psql meta-commands)."""
    result = subprocess.run(
        [str(bin_dir() / "pg_dump"), "-d", database_url, "-n", schema, "--inserts", "--no-owner", "-x"],
        capture_output=True,
        text=True,
        env=_clean_env(),
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"pg_dump -n {schema} failed: {result.stderr.strip()}")
    # pg_dump 18 wraps plain dumps in `\restrict <key>` … `\unrestrict <key>` (psql only).
    return "\n".join(line for line in result.stdout.splitlines() if not line.startswith("\\"))


def clone_schemas(
    database_url: str,
    source_sql: str,
    source_schema: str,
    names: Iterable[str],
    progress: Callable[[int], None] | None = None,
    *,
    analyze: bool = False,
) -> None:
    """Create each schema in `names` as a copy of `source_schema` (one transaction per schema).

    With `analyze`, each copy's tables that received rows are analysed right after it is made. Otherwise
    autovacuum analyses them later, five tables a copy (those with more than 50 rows): for 10,000 copies
    50,000 ANALYZEs running for many minutes after the copying, each of which invalidates the cached plans
    and catalog entries of its table in every backend, and whose invalidation messages overflow the queue
    that backends read them from, which throws away each backend's whole catalog cache. A server whose
    businesses were added one by one over months has none of that going on."""
    # The source name is random hex (spare_<12 hex>) or the bench's own: no table, column or row text
    # contains it.
    pattern = re.compile(rf"\b{re.escape(source_schema)}\b")
    filled = sorted(set(re.findall(rf"^INSERT INTO {re.escape(source_schema)}\.(\w+) ", source_sql, re.M)))
    with psycopg.connect(database_url) as conn:
        for done, name in enumerate(names, 1):
            with conn.transaction():
                conn.execute(pattern.sub(name, source_sql))
            if analyze and filled:
                tables = sql.SQL(", ").join(sql.Identifier(name, table) for table in filled)
                conn.execute(sql.SQL("ANALYZE {}").format(tables))
                conn.commit()
            if progress:
                progress(done)


# --- catalogs ----------------------------------------------------------------------------------------


def server_settings(conn: psycopg.Connection) -> dict[str, str]:
    rows = conn.execute(
        "SELECT name, setting, unit FROM pg_settings WHERE name = ANY(%s)", [list(SERVER_SETTINGS)]
    ).fetchall()
    found = {name: f"{setting}{' × ' + unit if unit else ''}" for name, setting, unit in rows}
    return {name: found[name] for name in SERVER_SETTINGS if name in found}


def catalog_snapshot(conn: psycopg.Connection) -> dict:
    """Rows and bytes (heap + indexes + TOAST) of the growing catalogs, and of all of pg_catalog."""
    snapshot = {}
    for name in CATALOGS:
        rows, size = conn.execute(
            sql.SQL("SELECT count(*), pg_total_relation_size({}::regclass) FROM pg_catalog.{}").format(
                sql.Literal(f"pg_catalog.{name}"), sql.Identifier(name)
            )
        ).fetchone()
        snapshot[name] = {"rows": rows, "bytes": size}
    snapshot["pg_catalog_total_bytes"] = int(
        conn.execute(
            "SELECT sum(pg_total_relation_size(oid)) FROM pg_class"
            " WHERE relnamespace = 'pg_catalog'::regnamespace AND relkind = 'r'"
        ).fetchone()[0]
    )
    snapshot["database_bytes"] = int(
        conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    )
    return snapshot


def schema_objects(conn: psycopg.Connection, schema: str) -> dict[str, int]:
    """Tables, indexes, sequences … of one schema, and the catalog rows describing them."""
    kinds = dict(
        conn.execute(
            "SELECT relkind, count(*) FROM pg_class WHERE relnamespace = %s::regnamespace GROUP BY 1",
            [schema],
        ).fetchall()
    )
    counts = {
        "tables": kinds.get("r", 0),
        "indexes": kinds.get("i", 0),
        "sequences": kinds.get("S", 0),
        "views": kinds.get("v", 0),
    }
    counts["toast_tables"], counts["toast_indexes"] = conn.execute(
        "SELECT count(t.oid), count(ti.indexrelid) FROM pg_class c JOIN pg_class t ON t.oid = c.reltoastrelid"
        " LEFT JOIN pg_index ti ON ti.indrelid = t.oid WHERE c.relnamespace = %s::regnamespace",
        [schema],
    ).fetchone()
    counts["pg_attribute_rows"] = conn.execute(
        "SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
        " WHERE c.relnamespace = %s::regnamespace",
        [schema],
    ).fetchone()[0]
    counts["pg_constraint_rows"] = conn.execute(
        "SELECT count(*) FROM pg_constraint WHERE connamespace = %s::regnamespace", [schema]
    ).fetchone()[0]
    return counts


def tables_in(conn: psycopg.Connection, schemas: list[str] | None = None) -> int:
    """Plain and partitioned tables: what pg_dump locks, one lock each, in one transaction."""
    query = (
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
        " AND n.nspname NOT LIKE 'pg_toast%%'"
    )
    if schemas is None:
        return conn.execute(query).fetchone()[0]
    return conn.execute(query + " AND n.nspname = ANY(%s)", [schemas]).fetchone()[0]


# --- Django's table list: run up to four times per schema by every `migrate` -------------------------------

# Django's PostgreSQL introspection (get_table_list; django-tenants only narrows search_path around it): it
# checks pg_table_is_visible() on every table of every schema, so it slows down as schemas are added.
DJANGO_TABLE_LIST = """
SELECT c.relname, obj_description(c.oid, 'pg_class') FROM pg_catalog.pg_class c
LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('f', 'm', 'p', 'r', 'v') AND n.nspname NOT IN ('pg_catalog', 'pg_toast')
  AND pg_catalog.pg_table_is_visible(c.oid)
"""
# The same answer while search_path names one schema, without a visibility check per table.
SCHEMA_TABLE_LIST = """
SELECT c.relname, obj_description(c.oid, 'pg_class') FROM pg_catalog.pg_class c
WHERE c.relkind IN ('f', 'm', 'p', 'r', 'v') AND c.relnamespace = ANY (current_schemas(false)::regnamespace[])
"""


def table_list_ms(conn: psycopg.Connection, schema: str, query: str, runs: int = 5) -> float:
    """Median milliseconds of a table-list query with search_path set to `schema` alone."""
    conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        conn.execute(query).fetchall()
        times.append((time.perf_counter() - started) * 1000)
    conn.execute("RESET search_path")
    return sorted(times)[len(times) // 2]


# --- the catalog cache of one connection --------------------------------------------------------------

_CACHE_MEMORY = """
WITH m AS MATERIALIZED (SELECT * FROM pg_backend_memory_contexts),
     c AS (SELECT level, path[level] AS id FROM m WHERE name = 'CacheMemoryContext')
SELECT (SELECT sum(m.total_bytes) FROM m, c WHERE m.path[c.level] = c.id),
       (SELECT sum(m.used_bytes) FROM m, c WHERE m.path[c.level] = c.id),
       (SELECT sum(total_bytes) FROM m)
"""


def cache_memory(conn: psycopg.Connection) -> dict[str, int]:
    """Bytes of this connection's backend: CacheMemoryContext with its children (allocated, and used: the
    allocator grows in doubling blocks, so `used` moves smoothly), and all memory contexts together."""
    cache, used, total = conn.execute(_CACHE_MEMORY).fetchone()
    return {"cache": int(cache), "cache_used": int(used), "all_contexts": int(total)}


def touch_schemas(conn: psycopg.Connection, schemas: Iterable[str], tables: list[str]) -> None:
    """What a request does to the backend's caches: plan and run a query on some tables of each schema."""
    for schema in schemas:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        for table in tables:
            conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))


# --- pg_dump and the lock table ------------------------------------------------------------------------


def pg_dump_run(database_url: str, output: Path) -> tuple[bool, float, str]:
    """(succeeded, seconds, last line of stderr) of a whole-database custom-format dump."""
    started = time.perf_counter()
    result = subprocess.run(
        [str(bin_dir() / "pg_dump"), "-d", database_url, "-Fc", "-f", str(output)],
        capture_output=True,
        text=True,
        env=_clean_env(),
        check=False,
    )
    elapsed = time.perf_counter() - started
    # The error and its hint; the failing statement (a LOCK TABLE naming every table) is cut short.
    lines = [line[:300] for line in result.stderr.strip().splitlines() if line.strip()]
    return result.returncode == 0, elapsed, " | ".join(lines[:3])


def pg_restore_run(database_url: str, dump: Path, jobs: int = 2) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        [str(bin_dir() / "pg_restore"), "-d", database_url, "-j", str(jobs), "--no-owner", str(dump)],
        capture_output=True,
        text=True,
        env=_clean_env(),
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"pg_restore failed: {result.stderr.strip()[-2000:]}")
    return time.perf_counter() - started


def lock_capacity(database_url: str, batch: int = 250) -> int:
    """How many tables one transaction can lock (ACCESS SHARE, as pg_dump does) before the shared lock
    table is full. Larger than max_locks_per_transaction × max_connections: the table also has slots
    for background processes, fast-path slots per backend and some spare shared memory."""
    with psycopg.connect(database_url) as conn:
        tables = [
            sql.Identifier(schema, name)
            for schema, name in conn.execute(
                "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
                " AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1, 2"
            )
        ]
        locked = 0

        def lock(group: list) -> bool:
            try:
                with conn.transaction():  # a savepoint: a failed LOCK gives its slots back
                    conn.execute(
                        sql.SQL("LOCK TABLE {} IN ACCESS SHARE MODE").format(sql.SQL(", ").join(group))
                    )
                return True
            except psycopg.errors.OutOfMemory:
                return False

        with conn.transaction():
            for start in range(0, len(tables), batch):
                group = tables[start : start + batch]
                if lock(group):
                    locked += len(group)
                    continue
                for table in group:
                    if not lock([table]):
                        return locked
                    locked += 1
        return locked  # every table fit


def shared_memory_mb(conn: psycopg.Connection) -> int:
    """The server's main shared memory area in MB (PG 15+); the lock table is sized into it at start."""
    return int(conn.execute("SHOW shared_memory_size").fetchone()[0].removesuffix("MB"))


class ScratchServer(EmbeddedPostgres):
    """A throw-away PostgreSQL in a temp dir whose settings we pick (our embedded servers raise
    max_locks_per_transaction; this one starts from PostgreSQL's defaults)."""

    def __init__(self, settings: dict[str, str]):
        self._scratch = Path(tempfile.mkdtemp(prefix="termino-bench-pg-"))
        super().__init__(self._scratch / "data", find_free_port(), fast=True)
        self.settings = dict(settings)

    def _options(self) -> str:
        # Later -c options win: these override the project's SERVER_SETTINGS.
        extra = " ".join(f"-c {shlex.quote(f'{key}={value}')}" for key, value in self.settings.items())
        return f"{super()._options()} {extra}"

    def restart(self, settings: dict[str, str]) -> None:
        self.stop()
        self.settings.update(settings)
        self.start()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self._scratch, ignore_errors=True)
