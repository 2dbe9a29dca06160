"""Prepared statements for the hot reads (termino/shared/db/prepared.py): planned once per connection, yet
each business reads its own schema, whatever plan PostgreSQL keeps; none under transaction pooling."""

from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone
from django_tenants.utils import schema_context

from termino.shared import timeutils
from termino.shared.db import prepared
from termino.tenants.scheduling import selectors
from termino.tenants.scheduling import services as scheduling_services
from tests.tenants.scheduling.factories import BERLIN, next_monday, salon

from .support import database_alias, marked_customers, pgbouncer, pool_settings


def _params(service, day, resource=None) -> dict:
    window_start, window_end = timeutils.local_day_bounds(
        day - timedelta(days=1), day + timedelta(days=1), BERLIN
    )
    return {
        "service": service.pk,
        "active": True,
        "online": False,
        "resource": resource,
        "window_start": window_start,
        "window_end": window_end,
        "now": timezone.now(),
    }


def _both_ways(params) -> tuple:
    """The availability statement's row, prepared and as Django's own cursor sends it."""
    with prepared.cursor() as cursor:
        assert isinstance(cursor.cursor, prepared.PreparingCursor)
        cursor.execute(selectors._INPUTS_SQL, params)
        prepared_row = cursor.fetchone()
    with connection.cursor() as cursor:
        cursor.execute(selectors._INPUTS_SQL, params)
        return prepared_row, cursor.fetchone()


def _prepared_statements() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%WITH svc AS%"],
        )
        return cursor.fetchall()


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
    assert len(a[1]) == 2 and len(b[1]) == 4  # each business's own staff
    assert len(a[4][0]) == 1 and len(b[4][0]) == 1  # and its own booking
    assert _prepared_statements(), "the statement was not prepared"


@pytest.mark.django_db
def test_group_and_single_services_alternate_on_one_prepared_statement(business_a):
    """The statement skips the group sessions for a single service: the plan kept for any parameters must
    still find them for a group service."""
    day = next_monday().date()
    with schema_context(business_a.schema):
        single, _staff, _room = salon(staff_count=1)
        group, group_staff, _ = salon(capacity=4, staff_count=1, name="Rückenkurs")
        start = next_monday()
        for _ in range(2):
            scheduling_services.appointment_create(
                booking=scheduling_services.Booking(service=group, start=start, staff=group_staff[0])
            )
        rows = {}
        for _ in range(8):
            for service in (single, group):
                ours, django = _both_ways(_params(service, day))
                assert ours == django
                rows[service.pk] = ours
        sessions = rows[group.pk][5]
        assert [session[-1] for session in sessions] == [2]  # one session, two participants
        assert rows[single.pk][5] == []
        (generic, _custom), *_ = _prepared_statements()
        assert generic > 0, "PostgreSQL never used a plan for any parameters: the test proved nothing"


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
            with prepared.cursor(alias) as cursor:
                assert not isinstance(cursor.cursor, prepared.PreparingCursor)
                cursor.execute(
                    "SELECT last_name FROM crm_customer WHERE last_name LIKE %s ORDER BY last_name",
                    [marked.marker + "%"],
                )
                seen.append([row[0] for row in cursor.fetchall()])
    assert seen == [
        marked.names[business_a.schema],
        marked.names[business_b.schema],
        marked.names[business_a.schema],
    ]
