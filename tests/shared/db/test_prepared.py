"""Prepared statements for the hot reads (termino/shared/db/prepared.py): one per business and connection,
each only ever run under its business's search_path and with a plan for any parameters from the first run,
so PostgreSQL never plans it again; each business reads its own schema; none under transaction pooling."""

from datetime import timedelta

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from termino.shared import timeutils
from termino.shared.db import prepared
from termino.tenants.crm.models import Customer
from termino.tenants.scheduling import selectors
from termino.tenants.scheduling import services as scheduling_services
from tests.tenants.scheduling.factories import BERLIN, next_monday, salon

from .support import database_alias, marked_customers, pgbouncer, pool_settings, prepared_statements


def _params(service, day, resource=None) -> dict:
    window_start, window_end = timeutils.local_day_bounds(
        day - timedelta(days=1), day + timedelta(days=1), BERLIN
    )
    return {
        "services": [service.pk],
        "active": True,
        "online": False,
        "resource": resource,
        "window_start": window_start,
        "window_end": window_end,
        "now": timezone.now(),
    }


def _both_ways(params) -> tuple:
    """The availability statement's row, prepared and as Django's own cursor sends it."""
    prepared_row = prepared.fetchone(selectors._INPUTS_SQL, params)
    with connection.cursor() as cursor:
        cursor.execute(prepared.qualified(selectors._INPUTS_SQL, connection.schema_name), params)
        return prepared_row, cursor.fetchone()


def _prepared_statements() -> dict[str, tuple[int, int]]:
    return prepared_statements("row_to_json(s)")


@pytest.mark.django_db
def test_two_businesses_on_one_connection_each_read_their_own(business_a, business_b):
    """Alternating businesses more often than PostgreSQL plans before it keeps a generic plan: every
    answer is the business's own and equals the unprepared one."""
    day = next_monday().date()
    asked = {}
    for business, staff_count in ((business_a, 2), (business_b, 4)):
        with schema_context(business.schema):
            service, staff, _room = salon(staff_count=staff_count)
            scheduling_services.appointment_create(
                booking=scheduling_services.Booking(service=service, start=next_monday(), staff=staff[0])
            )
            asked[business.schema] = _params(service, day)
    answers = {}
    for _ in range(8):
        for schema, params in asked.items():
            with schema_context(schema):
                ours, django = _both_ways(params)
            assert ours == django
            answers.setdefault(schema, ours)
            assert ours == answers[schema]
    a, b = (answers[business.schema] for business in (business_a, business_b))
    staff = [[kind for _id, kind, _offers in answer[1]].count("staff") for answer in (a, b)]
    assert staff == [2, 4]  # each business's own staff
    assert len(a[4][0]) == 1 and len(b[4][0]) == 1  # and its own booking
    # Each business ran the shared statement until its third turn, then one of its own; all of them with the
    # plan for any parameters, never a custom one (auto mode makes five custom plans first).
    own = 8 - (prepared.PROMOTE_AFTER - 1)
    assert _prepared_statements() == {
        "shared": (16 - 2 * own, 0),
        business_a.schema: (own, 0),
        business_b.schema: (own, 0),
    }


@pytest.mark.django_db
def test_businesses_served_often_are_planned_once(business_a, business_b):
    """PostgreSQL reports every planning (`log_planner_stats`, sent to the client). Two businesses taking
    turns sixteen times: the shared statement is planned on each turn until each business has statements of
    its own (each turn changes the search_path), and those are planned once each."""
    asked = {}
    for business in (business_a, business_b):
        with schema_context(business.schema):
            service, _staff, _room = salon(staff_count=2)
            asked[business.schema] = _params(service, next_monday().date())
    plannings = []
    connection.ensure_connection()
    connection.connection.add_notice_handler(
        lambda notice: plannings.append(notice) if "PLANNER STATISTICS" in notice.message_primary else None
    )
    with connection.cursor() as cursor:
        cursor.execute("SET log_planner_stats = on; SET client_min_messages = log")
    try:
        for _ in range(8):
            for schema, params in asked.items():
                with schema_context(schema):
                    prepared.fetchone(selectors._INPUTS_SQL, params)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET log_planner_stats; RESET client_min_messages")
    assert len(plannings) == 2 * (prepared.PROMOTE_AFTER - 1) + 2


@pytest.mark.django_db
def test_group_sessions_are_read_apart_and_only_for_a_group_service(business_a):
    """A group service's sessions come from a statement of their own, run only when one is asked; its
    participants' allocations are its session, not busy time as well."""
    day = next_monday().date()
    with schema_context(business_a.schema):
        single, _staff, _room = salon(staff_count=1)
        group, group_staff, _ = salon(capacity=4, staff_count=1, name="Rückenkurs")
        start = next_monday()
        for _ in range(2):
            scheduling_services.appointment_create(
                booking=scheduling_services.Booking(service=group, start=start, staff=group_staff[0])
            )
        calendars = {}
        for _ in range(4):
            for service in (single, group):
                with CaptureQueriesContext(connection) as queries:
                    inputs = selectors.availability_inputs(
                        service=service, start_date=day, end_date=day, time_zone="Europe/Berlin"
                    )
                reads = [q["sql"] for q in queries.captured_queries if "GROUP BY a.resource_id" in q["sql"]]
                assert len(reads) == (service == group)
                calendars[service.pk] = {c.resource_id: c for c in inputs["resources"]}
        teacher = calendars[group.pk][group_staff[0].pk]
        assert [row[-1] for row in teacher.busy_rows] == [2]  # one session, two participants
        assert teacher.busy_spans == ()
        assert all(c.busy_rows == () for c in calendars[single.pk].values())
        ours = prepared.fetchone(selectors._SESSIONS_SQL, {**_params(group, day), "groups": [group.pk]})
        with connection.cursor() as cursor:
            cursor.execute(
                prepared.qualified(selectors._SESSIONS_SQL, connection.schema_name),
                {**_params(group, day), "groups": [group.pk]},
            )
            assert ours == cursor.fetchone()


@pytest.mark.django_db
def test_the_availability_answers_are_the_same_prepared_or_not(business_a):
    day = next_monday().date()
    with schema_context(business_a.schema):
        service, _staff, _room = salon(staff_count=3)
        for _ in range(7):
            offer = selectors.service_free_slots(
                service_id=service.pk,
                start_date=day,
                end_date=day + timedelta(days=6),
                time_zone="Europe/Berlin",
            )
        expected = selectors.free_slots(
            service=service, start_date=day, end_date=day + timedelta(days=6), time_zone="Europe/Berlin"
        )
        assert offer.slots == expected and len(expected) > 50


@pytest.mark.usefixtures("committed_db")
def test_transaction_pooling_gets_ordinary_cursors(business_a, business_b):
    """Behind PgBouncer in transaction mode a prepared statement would stay on a server connection another
    client gets next: there the cursor binds client-side and carries its schema, as every other one."""
    with (
        marked_customers({business_a.schema: 1, business_b.schema: 2}) as marked,
        pgbouncer(pool_mode="transaction", pool_size=1) as target,
        database_alias(pool_settings(target, "transaction")) as alias,
    ):
        db = connections[alias]
        seen = []
        for schema in (business_a.schema, business_b.schema, business_a.schema):
            db.set_schema(schema)
            names = prepared.fetchone(
                f"SELECT array_agg(last_name ORDER BY last_name) FROM {prepared.table(Customer)}"
                " WHERE last_name LIKE %(marker)s",
                {"marker": marked.marker + "%"},
                using=alias,
            )[0]
            seen.append(names)
        with db.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements")
            assert cursor.fetchone() == (0,)
    assert seen == [
        marked.names[business_a.schema],
        marked.names[business_b.schema],
        marked.names[business_a.schema],
    ]


@pytest.mark.django_db
def test_a_statement_reads_the_schema_it_names_whatever_the_search_path(business_a, business_b):
    """The text names the business's tables: run (unprepared) under another business's path, it still reads
    the one it was made for, and each business's statement is its own."""
    count = f"SELECT count(*) FROM {prepared.table(Customer)}"
    with schema_context(business_b.schema):
        Customer.objects.create(first_name="Nur", last_name="Bei B")
        assert prepared.fetchone(count, {}) == (1,)
    with schema_context(business_a.schema), connection.cursor() as cursor:
        assert prepared.fetchone(count, {}) == (0,)
        cursor.execute(prepared.qualified(count, business_b.schema))
        assert cursor.fetchone() == (1,)
    assert prepared.qualified(count, business_a.schema) != prepared.qualified(count, business_b.schema)


@pytest.mark.django_db
def test_every_connection_plans_prepared_statements_for_any_parameters(business_a):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('plan_cache_mode')")
        assert cursor.fetchone() == ("force_generic_plan",)


@pytest.mark.django_db
def test_each_connection_keeps_a_statement_per_business_it_may_serve(business_a):
    with schema_context(business_a.schema):
        prepared.fetchone(f"SELECT count(*) FROM {prepared.table(Customer)}", {})
    assert connection.connection.prepared_max == 3 * (prepared.HOT_BUSINESSES + 1) > 100


@pytest.mark.django_db
def test_a_connection_keeps_statements_of_their_own_for_its_most_recent_busy_businesses(
    business_a, business_b, monkeypatch
):
    """Bounded: with room for one busy business, the other one pushed out counts again from nothing and runs
    the shared statement meanwhile; the statement run names the business exactly when it is its own."""
    monkeypatch.setattr(prepared, "HOT_BUSINESSES", 1)
    count = f"SELECT count(*) FROM {prepared.table(Customer)}"

    def run(business) -> bool:
        with schema_context(business.schema), CaptureQueriesContext(connection) as queries:
            prepared.fetchone(count, {})
        (text,) = [q["sql"] for q in queries.captured_queries if "crm_customer" in q["sql"]]
        return f'"{business.schema}".' in text

    promote = prepared.PROMOTE_AFTER
    assert [run(business_a) for _ in range(promote)] == [False] * (promote - 1) + [True]
    assert [run(business_b) for _ in range(promote)] == [False] * (promote - 1) + [True]
    assert [run(business_a) for _ in range(promote)] == [False] * (promote - 1) + [True]  # b out now
    assert run(business_b) is False
