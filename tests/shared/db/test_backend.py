"""The backend in transaction mode, straight to PostgreSQL: every statement carries its schema, nothing is
left on the session, and Django, psycopg and the ORM see the statements as written. Session mode is
django-tenants unchanged."""

import select

import psycopg
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, NotSupportedError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from termino.shared.db.statements import Kind, statement_kind
from termino.tenants.crm.models import Customer

from .support import connect, database_alias, marked_customers, pool_settings

pytestmark = pytest.mark.usefixtures("committed_db")


@pytest.fixture
def marked(business_a, business_b):
    with marked_customers({business_a.schema: 1, business_b.schema: 2}) as marked:
        yield marked


@pytest.fixture
def pooled():
    """An alias in transaction mode, direct to the test database."""
    with database_alias(pool_settings(connection.settings_dict, "transaction")) as alias:
        yield alias


def own_names(alias, marked) -> list[str]:
    rows = Customer.objects.using(alias).filter(last_name__startswith=marked.marker)
    return list(rows.values_list("last_name", flat=True))


def session_search_path(db) -> str:
    # psycopg's own cursor, which the backend does not prefix: what the server session holds.
    return db.connection.execute("SHOW search_path").fetchone()[0]


def test_each_query_reads_the_current_business_and_the_session_keeps_its_default(
    pooled, marked, business_a, business_b
):
    db = connections[pooled]
    for schema in (business_a.schema, business_b.schema, business_a.schema):
        db.set_schema(schema)
        rows = Customer.objects.using(pooled).filter(last_name__startswith=marked.marker)
        assert [row.last_name for row in rows] == marked.names[schema]
        assert [row.last_name for row in rows.iterator()] == marked.names[schema]
        assert rows.update(notes="") == len(marked.names[schema])  # the UPDATE's rowcount, not the SET's
        assert session_search_path(db) == '"$user", public'
    db.set_schema_to_public()
    with db.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        assert cursor.fetchone() == ("public",)


def test_one_query_per_statement_logged_as_written(pooled, marked, business_a):
    db = connections[pooled]
    db.set_schema(business_a.schema)
    with CaptureQueriesContext(db) as queries:
        own_names(pooled, marked)
        with transaction.atomic(using=pooled):
            Customer.objects.using(pooled).filter(last_name__startswith=marked.marker).update(notes="x")
    logged = [query["sql"] for query in queries.captured_queries]
    assert [sql.split(" ", 1)[0] for sql in logged] == ["SELECT", "BEGIN", "UPDATE", "COMMIT"]
    assert f"LIKE '{marked.marker}%' ORDER BY" in logged[0]
    assert logged[2].startswith('UPDATE "crm_customer" SET "notes" = \'x\' WHERE')


def test_percent_signs_and_results_are_the_statements_own(pooled, business_a):
    db = connections[pooled]
    db.set_schema(business_a.schema)
    with db.cursor() as cursor:
        cursor.execute("SELECT %s || '%%', '100%%'::text", ["a"])
        assert cursor.fetchone() == ("a%", "100%")
        cursor.execute("SELECT %(x)s || '%%'", {"x": "b"})
        assert cursor.fetchone() == ("b%",)
        cursor.execute("SELECT '100%', '%%'")  # no parameters: nothing is a placeholder
        assert cursor.fetchone() == ("100%", "%%")
        cursor.execute("SELECT current_schema() AS here; SELECT 2")
        assert [column.name for column in cursor.description] == ["here"]
        assert cursor.fetchall() == [(business_a.schema,)] and cursor.rowcount == 1
        assert cursor.nextset() and cursor.fetchone() == (2,)
        assert not cursor.nextset()


def test_a_failed_savepoint_leaves_the_transaction_in_its_business(pooled, marked, business_a):
    db = connections[pooled]
    db.set_schema(business_a.schema)
    with transaction.atomic(using=pooled):
        with pytest.raises(IntegrityError), transaction.atomic(using=pooled):
            Customer.objects.using(pooled).create(last_name="x", phone="not a phone number")
        assert own_names(pooled, marked) == marked.names[business_a.schema]
        with db.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = '5s'")  # transaction state is fine
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone() == ("5s",)


@pytest.fixture
def probe_tables(business_a, business_b):
    """A one-column table in A and in B (not in public), dropped afterwards."""
    schemas = (business_a.schema, business_b.schema)
    for schema in schemas:
        with schema_context(schema), connection.cursor() as cursor:
            cursor.execute("CREATE TABLE pgbouncer_probe (v text)")
    yield schemas
    for schema in schemas:
        with schema_context(schema), connection.cursor() as cursor:
            cursor.execute("DROP TABLE pgbouncer_probe")


def probe_rows(schema: str) -> list[str]:
    with schema_context(schema), connection.cursor() as cursor:
        cursor.execute("SELECT v FROM pgbouncer_probe ORDER BY v")
        return [row[0] for row in cursor.fetchall()]


def test_executemany_copy_and_stream_run_in_the_business_in_autocommit_and_in_atomic(pooled, probe_tables):
    a, b = probe_tables
    db = connections[pooled]
    db.set_schema(a)
    with db.cursor() as cursor:
        cursor.executemany("INSERT INTO pgbouncer_probe (v) VALUES (%s)", [("a1",), ("a2",)])
        with cursor.copy("COPY pgbouncer_probe (v) FROM STDIN") as copy:
            copy.write_row(("a3",))
        assert [row[0] for row in cursor.stream("SELECT v FROM pgbouncer_probe ORDER BY v")] == [
            "a1",
            "a2",
            "a3",
        ]
    with pytest.raises(RuntimeError), transaction.atomic(using=pooled), db.cursor() as cursor:
        cursor.executemany("INSERT INTO pgbouncer_probe (v) VALUES (%s)", [("gone",)])
        with cursor.copy("COPY pgbouncer_probe (v) FROM STDIN") as copy:
            copy.write_row(("gone too",))
        raise RuntimeError("roll back")
    assert probe_rows(a) == ["a1", "a2", "a3"]  # committed in autocommit, the atomic block rolled back
    assert probe_rows(b) == []
    assert session_search_path(db) == '"$user", public'


def test_introspection_sees_the_current_schema_only(pooled, business_a):
    db = connections[pooled]
    db.set_schema(business_a.schema)
    with db.cursor() as cursor:
        tables = db.introspection.table_names(cursor)
    assert "crm_customer" in tables and "tenancy_tenant" not in tables  # public's tables stay out
    assert session_search_path(db) == '"$user", public'
    with db.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tenancy_tenant")  # afterwards public is on the path again
        assert cursor.fetchone()[0] >= 2


def test_statements_that_cannot_run_in_a_transaction(pooled, business_a):
    db = connections[pooled]
    with db.cursor() as cursor:
        cursor.execute("VACUUM tenancy_domain")  # public: sent as it is
    db.set_schema(business_a.schema)
    with pytest.raises(NotSupportedError, match="session-mode"), db.cursor() as cursor:
        cursor.execute("CREATE INDEX CONCURRENTLY probe_idx ON crm_customer (notes)")


def test_session_state_is_refused(pooled, business_a):
    db = connections[pooled]
    db.set_schema(business_a.schema)
    for statement in (
        "SET search_path = public",
        "RESET search_path",
        "LISTEN news",
        "CREATE TEMP TABLE t (v int)",
    ):
        with pytest.raises(NotSupportedError, match="outlives the transaction"), db.cursor() as cursor:
            cursor.execute(statement)
    assert session_search_path(db) == '"$user", public'


def test_transaction_mode_refuses_what_cannot_work_behind_the_pooler(pooled):
    with pytest.raises(NotSupportedError):
        connections[pooled].chunked_cursor()
    cursors_on = {
        **pool_settings(connection.settings_dict, "transaction"),
        "DISABLE_SERVER_SIDE_CURSORS": False,
    }
    with (
        database_alias(cursors_on) as alias,
        pytest.raises(ImproperlyConfigured, match="server-side cursors"),
    ):
        connections[alias].ensure_connection()


def test_session_mode_sets_the_search_path_only_when_the_session_does_not_have_it(
    marked, business_a, business_b
):
    """django-tenants re-issues the SET after every switch; ours only when the session's path differs.
    A request switches to public and back to its business (the routing middleware): no SET."""

    def statements(settings_dict) -> list[str]:
        with database_alias(settings_dict) as alias, CaptureQueriesContext(connections[alias]) as queries:
            db = connections[alias]
            for schema in (business_a.schema, "public", business_a.schema, business_b.schema):
                db.set_schema(schema)
                if schema != "public":
                    assert own_names(alias, marked) == marked.names[schema]
            db.rollback()  # a rollback may revert a SET: the next query sets it again
            db.set_schema(business_b.schema)
            assert own_names(alias, marked) == marked.names[business_b.schema]
            db.close()  # a new session starts with the server's default
            db.set_schema(business_b.schema)
            assert own_names(alias, marked) == marked.names[business_b.schema]
        return [query["sql"] for query in queries.captured_queries if query["sql"].startswith("SET ")]

    ours = statements(pool_settings(connection.settings_dict, "session"))
    theirs = statements({**connection.settings_dict, "ENGINE": "django_tenants.postgresql_backend"})
    a, b = (f'SET search_path = "{x.schema}","public"' for x in (business_a, business_b))
    assert theirs == [a, a, b, b, b]
    assert ours == [a, b, b, b]


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ('SELECT "crm_customer"."id" FROM "crm_customer"', Kind.SCHEMA_LOCAL),
        ("  -- why\n/* note */ insert into t values (1)", Kind.SCHEMA_LOCAL),
        ("SET LOCAL statement_timeout = 0", Kind.SCHEMA_LOCAL),
        ("set \n  local statement_timeout = 0", Kind.SCHEMA_LOCAL),
        ("SET CONSTRAINTS ALL IMMEDIATE", Kind.SCHEMA_LOCAL),
        ("CREATE INDEX i ON t (v)", Kind.SCHEMA_LOCAL),
        ('SAVEPOINT "s1_x1"', Kind.TRANSACTION_CONTROL),
        ('ROLLBACK TO SAVEPOINT "s1_x1"', Kind.TRANSACTION_CONTROL),
        ("PREPARE TRANSACTION 'x'", Kind.TRANSACTION_CONTROL),
        ("COMMIT PREPARED 'x'", Kind.OUTSIDE_TRANSACTION),
        ("vacuum analyze t", Kind.OUTSIDE_TRANSACTION),
        ("CREATE UNIQUE INDEX CONCURRENTLY i ON t (v)", Kind.OUTSIDE_TRANSACTION),
        ("REINDEX TABLE CONCURRENTLY t", Kind.OUTSIDE_TRANSACTION),
        ("REINDEX TABLE t", Kind.SCHEMA_LOCAL),
        ("CLUSTER", Kind.OUTSIDE_TRANSACTION),
        ("CLUSTER t USING i", Kind.SCHEMA_LOCAL),
        ("CREATE DATABASE x", Kind.OUTSIDE_TRANSACTION),
        ("SET search_path = x", Kind.SESSION_STATE),
        ("SET SESSION statement_timeout = 0", Kind.SESSION_STATE),
        ("set time zone 'UTC'", Kind.SESSION_STATE),
        ("PREPARE q AS SELECT 1", Kind.SESSION_STATE),
        ("PREPARE  TRANSACTION 'x'", Kind.TRANSACTION_CONTROL),
        ("DECLARE c CURSOR WITH HOLD FOR SELECT 1", Kind.SESSION_STATE),
        ("CREATE TEMPORARY TABLE t (v int)", Kind.SESSION_STATE),
    ],
)
def test_statement_kinds(sql, kind):
    assert statement_kind(sql) is kind


def test_psycopg_runs_the_set_local_and_the_statement_in_one_implicit_transaction(business_a):
    """What the design rests on (PostgreSQL's simple query protocol), checked on the real server."""
    with connect(connection.settings_dict, cursor_factory=psycopg.ClientCursor) as conn:
        cursor = conn.cursor()
        cursor.execute(f'SET LOCAL search_path = "{business_a.schema}"; SELECT current_schema()')
        assert cursor.nextset() and cursor.fetchone() == (business_a.schema,)
        cursor.execute("SELECT current_schema()")
        assert cursor.fetchone() == ("public",)


def _last_query(pid: int) -> str:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return row[0] if row else ""


def test_the_health_check_of_an_idle_connection_costs_no_round_trip(pooled):
    db = connections[pooled]
    with db.cursor() as cursor:
        cursor.execute("SELECT 42 AS marker")
    pid = db.connection.info.backend_pid
    db.commit()
    assert db.is_usable()
    # The server saw no `SELECT 1`: the connection's last statement is still ours.
    assert "marker" in _last_query(pid)


def test_a_connection_whose_server_went_away_is_not_usable(pooled):
    db = connections[pooled]
    with db.cursor() as cursor:
        cursor.execute("SELECT 1")
    pid = db.connection.info.backend_pid
    db.commit()
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    # The terminated backend's farewell reaches the socket a moment after pg_terminate_backend returns.
    select.select([db.connection.fileno()], [], [], 5)
    assert not db.is_usable()
    # What Django does at the start of each request: the dead connection is closed, the next one works.
    db.health_check_enabled, db.health_check_done = True, False
    db.close_if_health_check_failed()
    with db.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def test_a_connection_is_closed_after_the_request_in_which_it_reached_its_bound_of_businesses(
    marked, business_a, business_b
):
    """CONN_MAX_SCHEMAS bounds the catalog cache of a long-lived connection's backend by the businesses it
    served: public does not count, a business counts once, and never inside a transaction."""
    settings_dict = {**pool_settings(connection.settings_dict, "session"), "CONN_MAX_SCHEMAS": 2}
    with database_alias(settings_dict) as alias:
        db = connections[alias]

        def serve(schema: str) -> None:
            db.set_schema(schema)
            if schema == "public":
                with db.cursor() as cursor:
                    cursor.execute("SELECT 1")
            else:
                assert own_names(alias, marked) == marked.names[schema]

        for schema in (business_a.schema, "public", business_a.schema):
            serve(schema)
            db.close_if_unusable_or_obsolete()  # what Django runs when a request starts and ends
        assert db.schemas_seen == 1
        first_backend = db.connection.info.backend_pid

        serve(business_b.schema)
        assert db.schemas_seen == 2
        with transaction.atomic(using=alias):
            db.close_if_unusable_or_obsolete()
            assert db.connection is not None  # a transaction in progress is never cut off
        db.close_if_unusable_or_obsolete()
        assert db.connection is None

        serve(business_b.schema)  # a new connection counts afresh
        assert db.schemas_seen == 1
        assert db.connection.info.backend_pid != first_backend
        db.close_if_unusable_or_obsolete()
        assert db.connection is not None


@pytest.mark.parametrize("bound", [0, None])
def test_without_a_bound_of_businesses_the_connection_stays(marked, business_a, business_b, bound):
    settings_dict = {**pool_settings(connection.settings_dict, "session"), "CONN_MAX_SCHEMAS": bound}
    with database_alias(settings_dict) as alias:
        db = connections[alias]
        for schema in (business_a.schema, business_b.schema):
            db.set_schema(schema)
            assert own_names(alias, marked) == marked.names[schema]
        db.close_if_unusable_or_obsolete()
        assert db.schemas_seen == 2 and db.connection is not None


def test_the_bound_of_businesses_comes_from_the_settings():
    assert connection.settings_dict["CONN_MAX_SCHEMAS"] == 2000
    assert connection.settings_dict["CONN_MAX_AGE"] == 600
