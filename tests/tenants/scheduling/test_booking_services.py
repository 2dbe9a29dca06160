from datetime import timedelta

import pytest
import time_machine
from django_tenants.utils import schema_context

from termino.tenants.scheduling import services
from termino.tenants.scheduling.models import Allocation, AppointmentStatus, Closure, Service

from .factories import next_monday, salon

pytestmark = pytest.mark.django_db


def book(service, start, **kwargs):
    return services.appointment_create(booking=services.Booking(service=service, start=start, **kwargs))


def test_booking_holds_staff_and_buffers(business_a):
    with schema_context(business_a.schema):
        service, (anna, _), _ = salon(buffer_before_minutes=10, buffer_after_minutes=5)
        start = next_monday()
        appointment = book(service, start, staff=anna)
        allocation = appointment.allocations.get()
        assert allocation.period.lower == start - timedelta(minutes=10)
        assert allocation.period.upper == start + timedelta(minutes=35)
        assert appointment.end == start + timedelta(minutes=30)
        assert appointment.price == service.price


def test_any_staff_takes_the_next_free_one_then_409_names_the_clash(business_a):
    with schema_context(business_a.schema):
        service, (anna, ben), _ = salon()
        start = next_monday()
        assert book(service, start).allocations.get().resource == anna
        assert book(service, start).allocations.get().resource == ben
        with pytest.raises(services.Conflict) as caught:
            book(service, start + timedelta(minutes=10))
        assert "Staff 1 is already booked from 10:00 to 10:30 (Haarschnitt)" in caught.value.message


def test_room_is_booked_together_with_staff(business_a):
    with schema_context(business_a.schema):
        service, (anna, ben), room = salon(requires_room=True)
        start = next_monday()
        first = book(service, start, staff=anna)
        assert sorted(a.resource_id for a in first.allocations.all()) == sorted([anna.pk, room.pk])
        with pytest.raises(services.Conflict) as caught:
            book(service, start, staff=ben)  # Ben is free, the only room is not
        assert "Raum 1" in caught.value.message


def test_group_service_fills_up_to_capacity_and_no_further(business_a):
    with schema_context(business_a.schema):
        service, (anna,), _ = salon(capacity=3, staff_count=1, name="Rückenkurs")
        start = next_monday()
        for _ in range(3):
            book(service, start, staff=anna)
        with pytest.raises(services.Conflict, match="fully booked"):
            book(service, start, staff=anna)
        assert Allocation.objects.filter(resource=anna, active=True).values("session").distinct().count() == 1
        other = Service.objects.create(name="Massage", duration_minutes=30)
        other.resources.add(anna)
        with pytest.raises(services.Conflict):
            book(other, start + timedelta(minutes=15), staff=anna)


def test_any_staff_joins_the_session_with_a_seat_left_when_an_earlier_one_is_full(business_a):
    # Found by test_write_equals_read: the engine offered Ben's half-full session, and the write path
    # refused the booking because it looked at Anna's full one first.
    with schema_context(business_a.schema):
        service, (anna, ben), _ = salon(capacity=2, name="Rückenkurs")
        start = next_monday()
        for _ in range(2):
            book(service, start, staff=anna)
        book(service, start, staff=ben)
        joined = book(service, start)
        assert joined.allocations.get().resource == ben
        sessions = Allocation.objects.filter(resource=ben, active=True).values("session").distinct()
        assert sessions.count() == 1
        with pytest.raises(services.Conflict, match="fully booked"):
            book(service, start)
        with pytest.raises(services.Conflict, match="fully booked"):
            book(service, start, staff=anna)


def test_cancel_frees_the_time_and_is_final(business_a):
    with schema_context(business_a.schema):
        service, (anna,), _ = salon(staff_count=1)
        start = next_monday()
        first = book(service, start, staff=anna)
        services.appointment_set_status(appointment=first, status=AppointmentStatus.CANCELLED, reason="krank")
        assert book(service, start, staff=anna).status == AppointmentStatus.CONFIRMED
        with pytest.raises(services.SchedulingError, match="cannot be marked"):
            services.appointment_set_status(appointment=first, status=AppointmentStatus.CONFIRMED)


def test_status_transitions(business_a):
    with schema_context(business_a.schema):
        service, (anna,), _ = salon(staff_count=1)
        appointment = services.appointment_create(
            booking=services.Booking(service=service, start=next_monday(), staff=anna),
            status=AppointmentStatus.REQUESTED,
        )
        with pytest.raises(services.SchedulingError):
            services.appointment_set_status(appointment=appointment, status=AppointmentStatus.COMPLETED)
        appointment = services.appointment_set_status(
            appointment=appointment, status=AppointmentStatus.CONFIRMED
        )
        # How it went can be told only once it has begun.
        with pytest.raises(services.SchedulingError, match="only once it has begun"):
            services.appointment_set_status(appointment=appointment, status=AppointmentStatus.NO_SHOW)
        with time_machine.travel(appointment.start, tick=True):
            for status in (AppointmentStatus.NO_SHOW, AppointmentStatus.COMPLETED):
                appointment = services.appointment_set_status(appointment=appointment, status=status)
                assert appointment.status == status
        # A no-show or completed appointment still used its time.
        assert appointment.allocations.get().active


def test_move_checks_the_new_time_and_keeps_the_old_on_conflict(business_a):
    with schema_context(business_a.schema):
        service, (anna, ben), _ = salon()
        start = next_monday()
        first = book(service, start, staff=anna)
        book(service, start + timedelta(hours=1), staff=anna)
        with pytest.raises(services.Conflict):
            services.appointment_move(appointment=first, start=start + timedelta(minutes=45))
        first.refresh_from_db()
        assert first.start == start
        moved = services.appointment_move(appointment=first, start=start + timedelta(minutes=45), staff=ben)
        assert moved.allocations.get().resource == ben
        assert moved.end == start + timedelta(minutes=75)
        # Overlapping its own old time is fine.
        services.appointment_move(appointment=moved, start=start + timedelta(minutes=50))


def test_wrong_resource_is_a_clear_400(business_a):
    with schema_context(business_a.schema):
        _service, (anna, _), _room = salon()
        other = Service.objects.create(name="Färben", duration_minutes=60)
        with pytest.raises(services.SchedulingError, match="does not offer Färben"):
            services.appointment_create(
                booking=services.Booking(service=other, start=next_monday(), staff=anna)
            )


def test_holidays_import_is_idempotent(business_a):
    with schema_context(business_a.schema):
        made = services.holidays_import(state="BY", years=[2026], time_zone="Europe/Berlin")
        assert made >= 12  # Bavaria has 13 statewide holidays in 2026
        assert services.holidays_import(state="BY", years=[2026], time_zone="Europe/Berlin") == 0
        christmas = Closure.objects.get(holiday_date="2026-12-25")
        assert christmas.start.isoformat() == "2026-12-24T23:00:00+00:00"
        assert "Weihnacht" in christmas.reason
