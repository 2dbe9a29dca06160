"""Concurrent bookings into a stylist's processing gap, with real concurrent connections: the exclusion
constraint (and the row locks in front of it) let in exactly what fits, whatever the order."""

import threading
import time as clock
from datetime import timedelta

from django.db import connection
from django_tenants.utils import schema_context

from termino.tenants.scheduling import services
from termino.tenants.scheduling.models import Allocation, Appointment, Service

from .factories import next_monday, salon


def _colour_salon():
    cut, (anna,), _room = salon(staff_count=1)
    colour = Service.objects.create(
        name="Farbe",
        duration_minutes=60,
        processing_after_minutes=15,
        processing_minutes=30,
        min_notice_minutes=0,
    )
    colour.resources.set([anna])
    return cut, colour, anna


def _overlaps() -> int:
    table = Allocation._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM {table} a JOIN {table} b ON a.resource_id = b.resource_id AND a.id < b.id"
            " AND a.session <> b.session WHERE a.active AND b.active AND a.period && b.period"
        )
        return cursor.fetchone()[0]


def _race(schema: str, attempts: list) -> list[tuple[str, str]]:
    """Run every (label, attempt) at once in its own thread and connection; (label, outcome) in order."""
    barrier = threading.Barrier(len(attempts))
    outcomes: list = [None] * len(attempts)

    def run(n: int) -> None:
        label, attempt = attempts[n]
        try:
            with schema_context(schema):
                barrier.wait(timeout=60)
                attempt()
            outcomes[n] = (label, "won")
        except services.Conflict:
            outcomes[n] = (label, "409")
        except Exception as exc:  # anything else is a failure the assertion below shows
            outcomes[n] = (label, repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(attempts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_cuts_racing_into_a_colours_processing_gap(committed_db):
    business = committed_db(f"t-gap-{clock.monotonic_ns() % 10**6}")
    start = next_monday()
    with schema_context(business.schema):
        cut, colour, anna = _colour_salon()
        services.appointment_create(booking=services.Booking(service=colour, start=start, staff=anna))
    connection.set_schema_to_public()

    def book(minutes: int):
        def attempt():
            services.appointment_create(
                booking=services.Booking(
                    service=Service.objects.get(pk=cut.pk),
                    start=start + timedelta(minutes=minutes),
                    staff=anna,
                )
            )

        return attempt

    # 10:15-10:45 fits the gap exactly; 10:30-11:00 runs into the rinse.
    outcomes = _race(business.schema, [("10:15", book(15))] * 8 + [("10:30", book(30))] * 8)
    assert sorted(o for o in outcomes if o[1] == "won") == [("10:15", "won")]
    assert all(o[1] in ("won", "409") for o in outcomes), outcomes
    with schema_context(business.schema):
        assert Appointment.objects.count() == 2
        assert _overlaps() == 0


def test_visits_and_cuts_racing_leave_a_set_that_fits_and_nothing_more_to_add(committed_db):
    business = committed_db(f"t-visit-race-{clock.monotonic_ns() % 10**6}")
    start = next_monday()  # a visit at 10:00: cut 10:00-10:30, colour 10:30-11:30, Anna free 10:45-11:15
    with schema_context(business.schema):
        cut, colour, anna = _colour_salon()
    connection.set_schema_to_public()

    def visit():
        first, second = Service.objects.get(pk=cut.pk), Service.objects.get(pk=colour.pk)
        starts = services.visit_starts([first, second], start)
        services.visit_create(
            bookings=[
                services.Booking(service=first, start=starts[0], staff=anna),
                services.Booking(service=second, start=starts[1], staff=anna),
            ]
        )

    def single(minutes: int):
        def attempt():
            services.appointment_create(
                booking=services.Booking(
                    service=Service.objects.get(pk=cut.pk),
                    start=start + timedelta(minutes=minutes),
                    staff=anna,
                )
            )

        return attempt

    attempts = [("visit", visit)] * 5 + [("gap", single(45))] * 5 + [("apply", single(30))] * 5
    outcomes = _race(business.schema, attempts)
    assert all(o[1] in ("won", "409") for o in outcomes), outcomes
    winners = sorted(label for label, outcome in outcomes if outcome == "won")
    # Either the visit with a cut in its gap, or the cut at 10:30 alone (it blocks both others): every
    # group had more contenders, so whatever fits was taken.
    assert winners in (["gap", "visit"], ["apply"]), winners
    with schema_context(business.schema):
        assert _overlaps() == 0
        expected = 3 if winners == ["gap", "visit"] else 1
        assert Appointment.objects.count() == expected
