"""What Citus schema-based sharding asks of Termino, checked on the migrated test database and the code.

With `citus.enable_schema_based_sharding`, every business schema becomes a distributed schema: its tables
are single-shard tables placed together on one node, and the rebalancer moves the schema as a unit.
`public` can never be distributed; its tables stay on the coordinator (or become reference tables, copied
to every node). Each failure message says which Citus rule the change breaks; sources in docs/scaling.md.
"""

import ast
import io
import json
import re
from pathlib import Path

import pytest
import sqlparse
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.migrations import RunSQL, SeparateDatabaseAndState
from django.db.migrations.loader import MigrationLoader
from psycopg import pq

from termino.platform.staffadmin.selectors import business_activity
from termino.platform.tenancy import services
from termino.platform.tenancy.management.commands.migrate_tenants import expected_migrations, schemas_behind
from termino.platform.tenancy.models import Tenant
from tests.conftest import make_signup, unique_slug
from tests.tenants.privacy import migration_0001_before_split

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
# Known exceptions, each with its Citus cost written down in docs/scaling.md: the append-only guard of
# the privacy log. Citus runs triggers on distributed tables only with `citus.enable_unsafe_triggers`,
# and this one reads `termino.privacy_events_purge`, set with SET LOCAL on the coordinator: it reaches
# the worker only with `citus.propagate_set_commands = 'local'`.
KNOWN_TRIGGERS = {("privacy_personaldataevent", "privacy_event_append_only")}
KNOWN_FUNCTIONS = {"privacy_event_append_only"}


def business_schemas() -> list[str]:
    """Every schema a tenant row owns: businesses A and B and the pool's spares."""
    return sorted(
        Tenant.objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME).values_list("schema_name", flat=True)
    )


def rows(query: str, params=None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def tenant_app_labels() -> set[str]:
    """The apps whose migrations run in every business schema."""
    return {apps.get_app_config(name.rpartition(".")[2]).label for name in settings.TENANT_APPS}


def tenant_models():
    """Models whose tables every business schema must have (auto-created many-to-many tables included)."""
    labels = tenant_app_labels()
    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in labels and model._meta.managed and not model._meta.proxy
    ]


# --- foreign keys --------------------------------------------------------------------------------------


def test_no_foreign_key_leaves_a_business_schema(business_a):
    schemas = business_schemas()
    assert business_a.schema in schemas
    leaving = rows(
        """SELECT c.conname, rn.nspname || '.' || r.relname, fn.nspname || '.' || f.relname
           FROM pg_constraint c
           JOIN pg_class r ON r.oid = c.conrelid JOIN pg_namespace rn ON rn.oid = r.relnamespace
           JOIN pg_class f ON f.oid = c.confrelid JOIN pg_namespace fn ON fn.oid = f.relnamespace
           WHERE c.contype = 'f' AND rn.nspname = ANY(%s) AND fn.oid <> rn.oid""",
        [schemas],
    )
    assert leaving == [], (
        f"Foreign keys from a business schema to another schema: {leaving}. Citus places each business "
        "schema on one node; a foreign key out of it may only point to a reference table, which would make "
        "that public table a copy on every node with two-phase commits on every write. Keep the reference "
        "inside the business schema, or store the id without a foreign key."
    )


def test_no_foreign_key_enters_a_business_schema_from_outside(business_a):
    entering = rows(
        """SELECT c.conname, rn.nspname || '.' || r.relname, fn.nspname || '.' || f.relname
           FROM pg_constraint c
           JOIN pg_class r ON r.oid = c.conrelid JOIN pg_namespace rn ON rn.oid = r.relnamespace
           JOIN pg_class f ON f.oid = c.confrelid JOIN pg_namespace fn ON fn.oid = f.relnamespace
           WHERE c.contype = 'f' AND fn.nspname = ANY(%s) AND rn.oid <> fn.oid""",
        [business_schemas()],
    )
    assert entering == [], (
        f"Foreign keys into a business schema from outside it (public included): {entering}. Citus refuses "
        "them outright ('cannot create foreign keys to tables in a distributed schema from another "
        "schema'): the referenced rows live on one worker, the referencing ones elsewhere."
    )


# --- where tenant tables live --------------------------------------------------------------------------


def test_every_tenant_model_has_its_table_in_the_business_schema(business_a):
    present = {
        name for (name,) in rows("SELECT tablename FROM pg_tables WHERE schemaname = %s", [business_a.schema])
    }
    wanted = {model._meta.db_table for model in tenant_models()}
    assert len(wanted) > 20
    missing = sorted(wanted - present)
    assert missing == [], (
        f"Tenant models without a table in {business_a.schema}: {missing}. With search_path "
        "`<business>, public` such a model silently reads and writes a same-named table in public, "
        "shared by every business; under Citus that table is not even on the business's node."
    )


def test_no_table_of_a_tenant_only_app_in_public(business_a):
    shared = {apps.get_app_config(name.rpartition(".")[2]).label for name in settings.SHARED_APPS}
    tenant_only = {model._meta.db_table for model in tenant_models() if model._meta.app_label not in shared}
    assert "crm_customer" in tenant_only
    in_public = {name for (name,) in rows("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    stray = sorted(tenant_only & in_public)
    assert stray == [], (
        f"Tables of business-only apps in public: {stray}. A business schema lacking its own copy would "
        "fall through search_path to this shared one; on Citus it would sit on the coordinator, away from "
        "the business's node, and every query joining it would become a distributed query."
    )


def test_a_business_schema_holds_only_plain_tables_indexes_and_sequences(business_a):
    kinds = dict(
        rows(
            "SELECT relkind, count(*) FROM pg_class WHERE relnamespace = %s::regnamespace GROUP BY 1",
            [business_a.schema],
        )
    )
    assert kinds.get("r", 0) > 20
    others = {kind: count for kind, count in kinds.items() if kind not in {"r", "i", "S"}}
    assert others == {}, (
        f"Relations of kinds {others} in {business_a.schema} (v view, m materialized view, f foreign "
        "table, p partitioned table). Citus accepts only tables it can turn into single-shard tables "
        "in a distributed schema: no foreign tables, and partitions only within the same schema; views "
        "are objects it must propagate to every node."
    )
    inherited = rows(
        """SELECT i.inhrelid::regclass::text, i.inhparent::regclass::text FROM pg_inherits i
           JOIN pg_class c ON c.oid = i.inhrelid OR c.oid = i.inhparent
           WHERE c.relnamespace = %s::regnamespace""",
        [business_a.schema],
    )
    assert inherited == [], (
        f"Inheritance in {business_a.schema}: {inherited}. 'tables in a distributed schema cannot inherit "
        "or be inherited' (Citus)."
    )


def test_no_extension_object_inside_a_business_schema(business_a):
    schemas = business_schemas()
    extensions = rows(
        "SELECT extname FROM pg_extension WHERE extnamespace::regnamespace::text = ANY(%s)", [schemas]
    )
    members = rows(
        """SELECT d.classid::regclass::text, d.objid FROM pg_depend d
           JOIN pg_class c ON d.classid = 'pg_class'::regclass AND c.oid = d.objid
           WHERE d.deptype = 'e' AND c.relnamespace::regnamespace::text = ANY(%s)""",
        [schemas],
    )
    assert extensions == [] and members == [], (
        f"Extension objects in business schemas: {extensions or members}. Citus will not distribute a "
        "schema that is an extension's schema or holds an extension's objects. Create extensions "
        "(btree_gist) from a shared-app migration, in public; Citus installs them on every node."
    )


def test_nothing_in_a_business_schema_depends_on_a_table_or_function_elsewhere(business_a):
    # Columns, defaults, constraints, indexes and triggers of the business schema, pointing at relations
    # or functions in another non-system schema that no extension owns (btree_gist's are fine).
    outside = rows(
        """WITH mine AS (
               SELECT 'pg_class'::regclass AS classid, oid AS objid FROM pg_class
                WHERE relnamespace = %(schema)s::regnamespace
               UNION ALL
               SELECT 'pg_constraint'::regclass, oid FROM pg_constraint
                WHERE connamespace = %(schema)s::regnamespace
               UNION ALL
               SELECT 'pg_attrdef'::regclass, a.oid FROM pg_attrdef a JOIN pg_class c ON c.oid = a.adrelid
                WHERE c.relnamespace = %(schema)s::regnamespace
               UNION ALL
               SELECT 'pg_trigger'::regclass, t.oid FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
                WHERE c.relnamespace = %(schema)s::regnamespace
           ),
           target AS (
               SELECT 'pg_class'::regclass AS classid, oid AS objid, relnamespace AS nsp,
                      relname::text AS name FROM pg_class
               UNION ALL
               SELECT 'pg_proc'::regclass, oid, pronamespace, proname::text FROM pg_proc
           )
           SELECT DISTINCT n.nspname || '.' || t.name
           FROM pg_depend d
           JOIN mine m ON m.classid = d.classid AND m.objid = d.objid
           JOIN target t ON t.classid = d.refclassid AND t.objid = d.refobjid
           JOIN pg_namespace n ON n.oid = t.nsp
           WHERE n.nspname <> %(schema)s AND n.nspname NOT IN ('pg_catalog', 'information_schema')
             AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = t.classid AND e.objid = t.objid
                             AND e.deptype = 'e')""",
        {"schema": business_a.schema},
    )
    assert outside == [], (
        f"{business_a.schema} depends on objects in other schemas: {outside}. After "
        "citus_schema_distribute() the business's tables live on a worker; a default calling a public "
        "sequence or function, or a constraint on a public table, would point back across nodes."
    )


def test_triggers_and_functions_in_business_schemas_are_the_known_ones(business_a):
    triggers = set(
        rows(
            """SELECT c.relname::text, t.tgname::text FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
               WHERE NOT t.tgisinternal AND c.relnamespace = %s::regnamespace""",
            [business_a.schema],
        )
    )
    functions = {
        name
        for (name,) in rows(
            "SELECT proname::text FROM pg_proc WHERE pronamespace = %s::regnamespace", [business_a.schema]
        )
    }
    assert triggers == KNOWN_TRIGGERS and functions == KNOWN_FUNCTIONS, (
        f"Triggers {sorted(triggers)} and functions {sorted(functions)} in {business_a.schema}, expected "
        f"{sorted(KNOWN_TRIGGERS)} and {sorted(KNOWN_FUNCTIONS)}. Citus runs triggers on distributed "
        "tables only with citus.enable_unsafe_triggers, on the worker, where session settings of the "
        "coordinator are not seen unless propagated: list a new one here only with its Citus cost in "
        "docs/scaling.md, or do the work in Python."
    )


# --- queries -------------------------------------------------------------------------------------------

_SQL_WORD = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|ALTER|CREATE|DROP|TRUNCATE|COPY|SET|LOCK)\b")
# A business schema's name (t_<slug>, spare_<hex>) as an identifier, or qualifying one.
_SCHEMA_NAME = re.compile(r'(?<![\w."$])"?(?:t|spare)_[a-z0-9_]+"?(?=[\s.;,)"]|$)')
_QUALIFIED = re.compile(r'(?<![\w."$])"?(?:t|spare)_[a-z0-9_]+"?\."?[a-z_]')


def sql_naming_a_business_schema(source: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
            if _QUALIFIED.search(text) or (_SQL_WORD.search(text) and _SCHEMA_NAME.search(text)):
                found.append((node.lineno, text[:100]))
    return found


def test_no_sql_in_the_code_names_a_business_schema():
    # The scanner itself must see what it looks for.
    assert sql_naming_a_business_schema('q = "SELECT * FROM t_acme.crm_customer"')
    assert sql_naming_a_business_schema("q = 'SET search_path TO spare_0a1b2c, public'")
    assert not sql_naming_a_business_schema('q = "SELECT sent_at FROM notifications_outboxmessage"')
    offenders = {
        str(path.relative_to(ROOT)): hits
        for path in sorted((ROOT / "termino").rglob("*.py"))
        if (hits := sql_naming_a_business_schema(path.read_text()))
    }
    assert offenders == {}, (
        f"SQL naming a business schema literally: {offenders}. Business schemas come and go (and are "
        "renamed on signup); code reaches one through schema_context, one at a time. A statement naming "
        "two business schemas is a cross-node query under Citus."
    )


class SchemasPerStatement:
    """Asks PostgreSQL which schemas each statement reads or writes: EXPLAIN (VERBOSE) of it, run first on
    the same connection, so search_path and parameters are those the statement really runs with."""

    def __init__(self):
        self.statements: list[tuple[str, set[str]]] = []

    def __call__(self, execute, sql, params, many, context):
        if not many and sql.lstrip().split(None, 1)[0].upper() in {
            "SELECT",
            "WITH",
            "INSERT",
            "UPDATE",
            "DELETE",
        }:
            raw = context["cursor"].cursor
            raw.execute("EXPLAIN (VERBOSE, FORMAT JSON) " + sql, params)
            plan = raw.fetchone()[0]
            self.statements.append(
                (sql, self._schemas(plan if not isinstance(plan, str) else json.loads(plan)))
            )
        return execute(sql, params, many, context)

    def _schemas(self, node) -> set[str]:
        if isinstance(node, list):
            return set().union(*(self._schemas(item) for item in node)) if node else set()
        if isinstance(node, dict):
            found = {node["Schema"]} if "Schema" in node else set()
            return found.union(*(self._schemas(value) for value in node.values()))
        return set()


def test_code_reading_many_businesses_sends_one_business_schema_per_statement(business_a, business_b):
    schemas = set(business_schemas())
    probe = SchemasPerStatement()
    with connection.execute_wrapper(probe):
        business_activity([business_a.tenant, business_b.tenant])
        connection.set_schema_to_public()
        schemas_behind(sorted(schemas), expected_migrations())
    touched = [(sql, found & schemas) for sql, found in probe.statements]
    assert {business_a.schema, business_b.schema} <= set().union(*(found for _, found in touched))
    crossing = [(sql[:120], sorted(found)) for sql, found in touched if len(found) > 1]
    assert crossing == [], (
        f"Statements touching several business schemas at once: {crossing}. Under Citus each business "
        "schema may live on a different node: such a statement becomes a distributed query (or fails). "
        "Loop over the businesses with one statement per schema."
    )


# --- migrations ----------------------------------------------------------------------------------------
# Citus forwards the text of some commands on a distributed table as it came, e.g. CREATE TRIGGER, to the
# worker holding the business's schema, where it is run as one prepared statement: "cannot insert multiple
# commands into a prepared statement" if the text held two (Citus 13.2, issue 21). So every command a
# business migration sends holds exactly one statement. RunSQL sends a string as one command on
# PostgreSQL (Django does not split it there) and each item of a list as one command.


def statements_in(sql: str) -> int:
    """The SQL statements in a text, as sqlparse splits it (dollar quoting understood; comments and empty
    statements not counted)."""
    text = sqlparse.format(sql, strip_comments=True)
    return sum(1 for statement in sqlparse.split(text) if statement.strip().rstrip(";").strip())


def raw_sql_commands(operations) -> list[tuple[str, str]]:
    """(direction, text) of every command the RunSQL operations among `operations` send."""
    found = []
    for operation in operations:
        if isinstance(operation, SeparateDatabaseAndState):
            found += raw_sql_commands(operation.database_operations)
        elif isinstance(operation, RunSQL):
            for direction, sql in (("sql", operation.sql), ("reverse_sql", operation.reverse_sql)):
                for item in sql if isinstance(sql, (list, tuple)) else [sql]:
                    text = item[0] if isinstance(item, (list, tuple)) else item
                    if text:
                        found.append((direction, text))
    return found


def commands_with_several_statements(operations) -> list[str]:
    return [
        f"{direction}: {count} statements in one command: {' '.join(text.split())[:90]!r}"
        for direction, text in raw_sql_commands(operations)
        if (count := statements_in(text)) > 1
    ]


def test_raw_sql_of_business_migrations_sends_one_statement_per_command():
    # The rule must see what it looks for: the privacy trigger migration as it was before the split.
    before = migration_0001_before_split
    old = RunSQL(before.APPEND_ONLY_SQL, before.APPEND_ONLY_REVERSE_SQL)
    assert len(commands_with_several_statements([old])) == 2
    split = RunSQL(["SELECT 1;", ("SELECT %s", [2])], "-- none\nSELECT 3;")
    assert commands_with_several_statements([split]) == []

    labels = tenant_app_labels()
    migrations = {
        key: migration
        for key, migration in MigrationLoader(None, ignore_no_migrations=True).disk_migrations.items()
        if key[0] in labels
    }
    assert ("privacy", "0001_initial") in migrations and len(migrations) > 20
    assert raw_sql_commands(migrations["privacy", "0001_initial"].operations)  # the append-only trigger
    offenders = {
        f"{label}.{name}": hits
        for (label, name), migration in sorted(migrations.items())
        if (hits := commands_with_several_statements(migration.operations))
    }
    assert offenders == {}, (
        f"Business migrations sending several SQL statements as one command: {offenders}. Citus forwards "
        "the text of a command such as CREATE TRIGGER to the worker that holds the business's schema, which "
        "runs it as one prepared statement: 'cannot insert multiple commands into a prepared statement'. "
        "Give RunSQL a list, one statement per item (reverse_sql too)."
    )


# Django's PostgreSQL schema editor itself joins two statements in three templates
# (sql_create_column_inline_fk, sql_delete_fk, sql_update_with_default): an ALTER TABLE or UPDATE plus a
# SET CONSTRAINTS. Citus deparses
# ALTER TABLE instead of forwarding its text ("Allows ADD COLUMN / DROP CONSTRAINT in command string with
# other commands", Citus 12.0, #7032 and #7012), an UPDATE is planned as a distributed query, and SET
# CONSTRAINTS is not propagated; the trial's fill_schema_pool on Citus 13.2 ran all seven such ADD COLUMNs of
# a fresh schema before it stopped at the privacy trigger.
DJANGO_COMPOUND = re.compile(
    r"ALTER TABLE \S+ ADD COLUMN .+ REFERENCES .+; SET CONSTRAINTS \S+ IMMEDIATE"
    r"|SET CONSTRAINTS \S+ IMMEDIATE; ALTER TABLE \S+ DROP CONSTRAINT \S+"
    r"|UPDATE \S+ SET .+ WHERE \S+ IS NULL; SET CONSTRAINTS ALL IMMEDIATE"
)


class StatementsSent:
    """Every statement the connection executes, as PostgreSQL receives it (parameters merged in), and
    whether PostgreSQL accepts that text as ONE prepared statement: the way a Citus worker runs the text of a
    command the coordinator forwards. PostgreSQL's own parser decides, on a second connection (a statement
    refused there must not abort the migration's transaction; a statement about tables that do not exist
    yet on that connection fails later, in analysis, and still counts as one)."""

    def __init__(self):
        self.sent: list[tuple[str, bool]] = []  # (text, accepted as one prepared statement)
        self.parser = connection.get_new_connection(connection.get_connection_params())
        self.parser.autocommit = True

    def __call__(self, execute, sql, params, many, context):
        raw = context["cursor"].cursor
        one = next(iter(params), None) if many else params
        text = sql if one is None else raw.mogrify(sql, one)
        parsed = self.parser.pgconn.prepare(b"", text.encode())
        several = b"cannot insert multiple commands into a prepared statement" in (
            parsed.error_message or b""
        )
        self.sent.append((" ".join(text.split()), parsed.status == pq.ExecStatus.COMMAND_OK or not several))
        return execute(sql, params, many, context)


def test_pool_filler_migrations_and_signup_send_one_statement_at_a_time():
    """What reaches a Citus coordinator while a spare schema is created and migrated (fill_schema_pool),
    part of it is rolled back and migrated again (migrate_tenants), and a signup claims a spare. All of it
    inside the test's transaction, which rolls it back afterwards."""
    probe = StatementsSent()
    try:
        with connection.execute_wrapper(probe):
            spare = services.spare_schema_create()
            call_command(
                "migrate_schemas",
                "privacy",
                "zero",
                schema_name=spare.schema_name,
                interactive=False,
                verbosity=0,
            )
            connection.set_schema_to_public()
            call_command("migrate_tenants", tenant=True, interactive=False, verbosity=0, stdout=io.StringIO())
            services.tenant_provision(signup=make_signup(unique_slug()))
    finally:
        probe.parser.close()
        connection.set_schema_to_public()

    sent = [text for text, _ in probe.sent]
    several = [text[:200] for text, one in probe.sent if not DJANGO_COMPOUND.fullmatch(text) and not one]
    assert several == [], (
        f"{len(several)} of {len(sent)} commands hold several statements, which a Citus worker refuses when "
        f"the coordinator forwards their text: {several[:5]}"
    )
    compound = [text for text in sent if DJANGO_COMPOUND.fullmatch(text)]
    assert compound and all(statements_in(text) == 2 for text in compound)
    # sqlparse (the static rule above) and PostgreSQL's parser agree on every command sent.
    disagree = [text[:200] for text, one in probe.sent if (statements_in(text) == 1) != one]
    assert disagree == [], disagree
    # And the run covered what matters: the privacy trigger both ways, a signup's claim, ~700 commands.
    assert len(sent) > 500
    for expected in (
        "CREATE FUNCTION privacy_event_append_only",
        "CREATE TRIGGER privacy_event_append_only",
        "DROP TRIGGER privacy_event_append_only",
        "DROP FUNCTION privacy_event_append_only",
        "ALTER SCHEMA",
    ):
        assert any(text.startswith(expected) for text in sent), f"never sent: {expected}"
