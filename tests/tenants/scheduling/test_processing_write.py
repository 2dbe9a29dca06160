"""The write path of processing time: booking, moving and resizing keep the staff member's two pieces (and the
room's whole time) as `services.held_times` lays them out; the history names each resource once."""

from datetime import timedelta

import pytest
from django_tenants.utils import schema_context

from termino.tenants.scheduling import lifecycle, services
from termino.tenants.scheduling.events import Actor
from termino.tenants.scheduling.models import AppointmentChange, Service

from .factories import next_monday, salon

pytestmark = pytest.mark.django_db
M = timedelta(minutes=1)
OWNER_DOOR = Actor(source="backoffice")


def pieces(appointment):
    return sorted(
        (a.resource_id, a.phase, a.period.lower - appointment.start, a.period.upper - appointment.start)
        for a in appointment.allocations.all()
    )


def test_book_move_and_resize_keep_the_processing_gap(business_a):
    with schema_context(business_a.schema):
        _cut, (anna, ben), room = salon()
        colour = Service.objects.create(
            name="Farbe", duration_minutes=60, processing_after_minutes=15, processing_minutes=30,
            buffer_before_minutes=5, requires_room=True, min_notice_minutes=0,
        )  # fmt: skip
        colour.resources.set([anna, ben, room])
        start = next_monday()
        booked = lifecycle.appointment_book(
            actor=OWNER_DOOR, booking=services.Booking(service=colour, start=start, staff=anna)
        )
        assert pieces(booked) == [
            (anna.pk, 1, -5 * M, 15 * M),
            (anna.pk, 2, 45 * M, 60 * M),
            (room.pk, 0, -5 * M, 60 * M),
        ]
        moved = lifecycle.appointment_move(
            actor=OWNER_DOOR, appointment=booked, start=start + 2 * 60 * M, staff=ben
        )
        assert pieces(moved) == [
            (ben.pk, 1, -5 * M, 15 * M),
            (ben.pk, 2, 45 * M, 60 * M),
            (room.pk, 0, -5 * M, 60 * M),
        ]
        # Longer: the rinse grows. Shorter than apply + processing: no gap left, the whole time is held.
        longer = lifecycle.appointment_resize(actor=OWNER_DOOR, appointment=moved, minutes=75)
        assert (ben.pk, 2, 45 * M, 75 * M) in pieces(longer)
        shorter = lifecycle.appointment_resize(actor=OWNER_DOOR, appointment=longer, minutes=40)
        assert pieces(shorter) == [(ben.pk, 0, -5 * M, 40 * M), (room.pk, 0, -5 * M, 40 * M)]
        for change in AppointmentChange.objects.filter(appointment=booked):
            assert sorted(change.after["resources"]) == sorted(set(change.after["resources"]))


def test_a_group_service_cannot_get_processing_time(business_a):
    with schema_context(business_a.schema):
        with pytest.raises(services.SchedulingError):
            services.service_create(
                name="Kurs",
                duration_minutes=60,
                capacity=5,
                processing_after_minutes=10,
                processing_minutes=10,
            )
        with pytest.raises(services.SchedulingError):
            services.service_create(
                name="Farbe", duration_minutes=40, processing_after_minutes=10, processing_minutes=30
            )
