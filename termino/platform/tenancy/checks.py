"""System check: a Citus coordinator as the database has the settings business schemas need there.

Registered without the `database` tag, so every `manage.py check` runs it, and so do `migrate_tenants` and
`fill_schema_pool` (commands run the checks before they start): the migration Job stops before the first
statement instead of failing half-way on a worker. One query; on plain PostgreSQL it finds no `citus`
extension and says nothing. The list is the one docs/scaling.md ("Citus") and the Helm chart's values state.
"""

from django.core import checks
from django.db import DatabaseError, connection

# (setting, value it needs, why)
CITUS_SETTINGS = (
    (
        "citus.enable_schema_based_sharding",
        "on",
        "with it every new schema becomes a distributed schema on one worker: the spare schemas the pool "
        "filler creates, which signups claim",
    ),
    (
        "citus.enable_unsafe_triggers",
        "on",
        "Citus creates a trigger on a distributed table only with it, and every business schema has one: the "
        "append-only guard of the privacy log (privacy migration 0001)",
    ),
    (
        "citus.propagate_set_commands",
        "local",
        "the retention purge of the privacy log permits its DELETE with SET LOCAL "
        "termino.privacy_events_purge; only with it does that setting reach the worker, where the trigger "
        "reads it",
    ),
)
PROBE = (
    "SELECT e.extversion, "
    + ", ".join(f"current_setting('{name}', true)" for name, _, _ in CITUS_SETTINGS)
    + " FROM pg_extension e WHERE e.extname = %s"
)


def citus_probe(extension: str = "citus") -> tuple | None:
    """(extension version, the settings' values) when the extension is installed, else None."""
    with connection.cursor() as cursor:
        cursor.execute(PROBE, [extension])
        return cursor.fetchone()


def citus_problems(row: tuple | None, *, pool_mode: str, database: str) -> list[checks.CheckMessage]:
    if row is None:
        return []
    version, *values = row
    found = []
    for number, ((name, wanted, why), value) in enumerate(zip(CITUS_SETTINGS, values, strict=True), 1):
        if value == wanted:
            continue
        state = "not defined (is citus in shared_preload_libraries?)" if value is None else f"{value!r}"
        found.append(
            checks.Error(
                f"The database is a Citus coordinator (citus {version}), but {name} is {state}, "
                f"not {wanted!r}.",
                hint=(
                    f"{why[0].upper()}{why[1:]}. Set it once on the coordinator, as the database's owner: "
                    f"ALTER DATABASE {connection.ops.quote_name(database)} SET {name} TO '{wanted}'; "
                    "connections opened afterwards have it. See docs/scaling.md, 'Citus'."
                ),
                id=f"tenancy.E00{number}",
            )
        )
    if pool_mode == "transaction":
        found.append(
            checks.Error(
                f"The database is a Citus coordinator (citus {version}), but DATABASE_POOL_MODE is "
                "'transaction'.",
                hint=(
                    "Transaction pooling sends `SET LOCAL search_path …; <statement>` as one query, and "
                    "Citus forwards the whole text of some commands to the workers: a trigger command as "
                    "one prepared statement (which refuses two commands), a propagated SET LOCAL together "
                    "with the statement behind it. Connect directly or through PgBouncer in session mode "
                    "and set DATABASE_POOL_MODE=session. See docs/scaling.md, 'Citus'."
                ),
                id=f"tenancy.E00{len(CITUS_SETTINGS) + 1}",
            )
        )
    return found


# A database check: it looks only when a command names the database (`migrate`, `check --database default`,
# our migrate_tenants and fill_schema_pool), so a Celery worker starting or a test collecting its modules
# never opens a connection for it.
@checks.register("citus", checks.Tags.database)
def citus_settings(app_configs=None, databases=None, **kwargs) -> list[checks.CheckMessage]:
    if not databases or "default" not in databases:
        return []
    try:
        row = citus_probe()
    except DatabaseError:
        return []  # no database to look at (an image build, `check --deploy` in CI): nothing to say
    return citus_problems(row, pool_mode=connection.pool_mode, database=connection.settings_dict["NAME"])
