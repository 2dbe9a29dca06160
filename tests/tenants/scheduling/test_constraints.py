from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, connection
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django_tenants.utils import schema_context

from termino.shared.errors import api_exception_handler
from termino.tenants.scheduling import services as scheduling_services
from termino.tenants.scheduling.models import Allocation, Appointment

from .factories import next_monday, salon

pytestmark = pytest.mark.django_db


def test_btree_gist_lives_in_public():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
            " WHERE e.extname = 'btree_gist'"
        )
        assert cursor.fetchall() == [("public",)]


def test_every_business_schema_has_the_exclusion_constraint(business_a, business_b):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid"
            " JOIN pg_namespace n ON n.oid = t.relnamespace"
            " WHERE c.conname = 'allocation_no_overlap' AND c.contype = 'x'"
        )
        schemas = {row[0] for row in cursor.fetchall()}
        cursor.execute("SELECT schema_name FROM tenancy_tenant WHERE schema_name <> 'public'")
        tenants = {row[0] for row in cursor.fetchall()}
    assert tenants <= schemas
    assert {business_a.schema, business_b.schema} <= schemas


def _raw_allocation(appointment, resource, start, end):
    return Allocation.objects.create(
        appointment=appointment, resource=resource, period=DateTimeTZRange(start, end)
    )


def test_database_refuses_overlap_even_without_our_services(business_a):
    with schema_context(business_a.schema):
        service, (anna, _), _ = salon()
        start = next_monday()
        first = Appointment.objects.create(service=service, start=start, end=start + timedelta(minutes=30))
        _raw_allocation(first, anna, start, start + timedelta(minutes=30))
        second = Appointment.objects.create(
            service=service, start=start + timedelta(minutes=29), end=start + timedelta(minutes=59)
        )
        with pytest.raises(IntegrityError):
            _raw_allocation(second, anna, start + timedelta(minutes=29), start + timedelta(minutes=59))


def test_back_to_back_and_cancelled_do_not_clash(business_a):
    with schema_context(business_a.schema):
        service, (anna, _), _ = salon()
        start = next_monday()
        first = Appointment.objects.create(service=service, start=start, end=start + timedelta(minutes=30))
        _raw_allocation(first, anna, start, start + timedelta(minutes=30))
        later = Appointment.objects.create(
            service=service, start=start + timedelta(minutes=30), end=start + timedelta(minutes=60)
        )
        _raw_allocation(later, anna, start + timedelta(minutes=30), start + timedelta(minutes=60))  # touching
        Allocation.objects.filter(appointment=first).update(active=False)
        again = Appointment.objects.create(service=service, start=start, end=start + timedelta(minutes=30))
        _raw_allocation(again, anna, start, start + timedelta(minutes=30))


def test_an_overlap_refused_by_a_citus_worker_is_still_a_409(business_a):
    """On Citus the exclusion constraint refuses on the worker's shard: SQLSTATE 23P01 arrives unchanged, but
    the constraint's name carries the shard id (allocation_no_overlap_102008). The 409 reads only the
    SQLSTATE; renamed that way here, the overlap must still come back as the Conflict the API answers with."""
    with schema_context(business_a.schema):
        with connection.cursor() as cursor:
            cursor.execute(
                "ALTER TABLE scheduling_allocation"
                " RENAME CONSTRAINT allocation_no_overlap TO allocation_no_overlap_102008"
            )
        service, (anna, _), _ = salon()
        start = next_monday()
        first = Appointment.objects.create(service=service, start=start, end=start + timedelta(minutes=30))
        _raw_allocation(first, anna, start, start + timedelta(minutes=30))
        second = Appointment.objects.create(
            service=service, start=start + timedelta(minutes=29), end=start + timedelta(minutes=59)
        )
        with pytest.raises(scheduling_services.Conflict) as refused:
            # Past the services' own overlap check, as a concurrent booking gets: the constraint decides.
            scheduling_services._allocate(
                second, [anna], start + timedelta(minutes=29), start + timedelta(minutes=59)
            )
    assert refused.value.__cause__.__cause__.diag.constraint_name == "allocation_no_overlap_102008"
    assert refused.value.appointment_id == first.pk
    assert api_exception_handler(refused.value, {}).status_code == 409


@pytest.mark.parametrize(
    ("start", "end"),
    [
        # Berlin's DST nights (the repeated hour, the skipped one), a year end, odd microseconds, far out.
        ("2026-10-25 02:30:00+02", "2026-10-25 02:15:00.000001+01"),
        ("2027-03-28 01:59:59.999999+01", "2027-03-28 03:00:00+02"),
        ("2026-12-31 23:45:00+01", "2027-01-01 00:15:00+01"),
        ("2099-12-31 23:59:59.999998+00", "2099-12-31 23:59:59.999999+00"),
        ("1970-01-01 00:00:00+00", "1970-01-01 00:00:00.000001+00"),
    ],
)
def test_stored_epoch_microseconds_are_the_periods_bounds_exactly(business_a, start, end):
    """The availability statement reads `start_us`/`end_us`, PostgreSQL keeps them: to the microsecond."""
    with schema_context(business_a.schema):
        service, (anna, _), _ = salon()
        with connection.cursor() as cursor:
            cursor.execute("SELECT %s::timestamptz, %s::timestamptz", [start, end])
            lower, upper = cursor.fetchone()
        appointment = Appointment.objects.create(service=service, start=lower, end=upper)
        allocation = _raw_allocation(appointment, anna, lower, upper)
        allocation.refresh_from_db()
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        assert allocation.start_us == (lower - epoch) // timedelta(microseconds=1)
        assert allocation.end_us == (upper - epoch) // timedelta(microseconds=1)
        # Kept when the period moves, as every move and reschedule does.
        Allocation.objects.filter(pk=allocation.pk).update(
            period=DateTimeTZRange(lower + timedelta(days=1), upper + timedelta(days=1))
        )
        allocation.refresh_from_db()
        assert allocation.start_us == (lower + timedelta(days=1) - epoch) // timedelta(microseconds=1)
