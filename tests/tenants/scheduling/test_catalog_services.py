"""Catalogue writes: services, staff and rooms, weekly hours, closures and public holidays."""

from datetime import UTC, datetime, time

import pytest
from django.db import IntegrityError
from django_tenants.utils import schema_context

from termino.tenants.scheduling import selectors, services
from termino.tenants.scheduling.availability import WeeklyInterval
from termino.tenants.scheduling.models import Closure, Resource, Service, WeeklyHours

from .factories import next_monday, salon

pytestmark = pytest.mark.django_db


def interval(weekday, start, end):
    return WeeklyInterval(weekday=weekday, start=time(*start), end=time(*end))


def test_service_create_and_update_set_fields_and_performers(business_a):
    with schema_context(business_a.schema):
        anna = Resource.objects.create(kind="staff", name="Anna")
        room = Resource.objects.create(kind="room", name="Raum 1")
        service = services.service_create(
            name="Massage", duration_minutes=45, price="39.50", requires_room=True, resources=[anna, room]
        )
        assert set(service.resources.all()) == {anna, room}
        services.service_update(service=service, capacity=3, resources=[anna])
        service.refresh_from_db()
        assert service.capacity == 3 and service.duration_minutes == 45
        assert list(service.resources.all()) == [anna]
        services.service_update(service=service, name="Massage lang")  # resources None: unchanged
        assert list(Service.objects.get(pk=service.pk).resources.all()) == [anna]
        with pytest.raises(TypeError):
            services.service_update(service=service, id=99)


def test_service_without_appointments_is_deleted(business_a):
    with schema_context(business_a.schema):
        service = services.service_create(name="Probe", duration_minutes=30)
        services.service_delete(service=service)
        assert not Service.objects.filter(pk=service.pk).exists()


def test_service_with_appointments_is_kept_and_can_only_be_deactivated(business_a):
    with schema_context(business_a.schema):
        service, (anna, _ben), _room = salon()
        services.appointment_create(
            booking=services.Booking(service=service, start=next_monday(), staff=anna)
        )
        with pytest.raises(services.SchedulingError, match="cannot be deleted"):
            services.service_delete(service=service)
        assert Service.objects.filter(pk=service.pk, active=True).exists()
        services.service_deactivate(service=service)
        assert Service.objects.get(pk=service.pk).active is False
        assert service.appointments.count() == 1


def test_resource_create_update_and_linked_login_stays_staff(business_a):
    from tests.tenants.backoffice.helpers import make_user

    user = make_user(business_a, "staff", staff_name="Clara")
    with schema_context(business_a.schema):
        cut = services.service_create(name="Schnitt", duration_minutes=30)
        room = services.resource_create(kind="room", name="Kabine", services=[cut])
        assert list(room.services.all()) == [cut]
        services.resource_update(resource=room, name="Kabine 2", services=[], active=False)
        room.refresh_from_db()
        assert (room.name, room.active, room.services.count()) == ("Kabine 2", False, 0)
        clara = Resource.objects.get(user=user)
        with pytest.raises(services.SchedulingError, match="linked to a login"):
            services.resource_update(resource=clara, kind="room")
        assert Resource.objects.get(pk=clara.pk).kind == "staff"


def test_weekly_hours_are_replaced_as_a_whole(business_a):
    with schema_context(business_a.schema):
        anna = Resource.objects.create(kind="staff", name="Anna")
        services.weekly_hours_replace(
            resource=None, intervals=[interval(0, (9,), (12, 30)), interval(0, (13, 30), (18,))]
        )
        services.weekly_hours_replace(resource=anna, intervals=[interval(1, (10,), (14,))])
        services.weekly_hours_replace(resource=None, intervals=[interval(2, (8,), (16,))])
        assert selectors.weekly_hours(resource=None)[0] == []
        assert selectors.weekly_hours(resource=None)[2] == [(time(8), time(16))]
        # Anna's own hours were not touched by the business's replacement.
        assert selectors.weekly_hours(resource=anna)[1] == [(time(10), time(14))]
        services.weekly_hours_replace(resource=anna, intervals=[])
        assert not WeeklyHours.objects.filter(resource=anna).exists()


@pytest.mark.parametrize(
    "bad",
    [
        [interval(0, (9,), (12,)), interval(0, (11,), (14,))],  # overlap
        [interval(3, (9,), (18,)), interval(3, (10,), (11,))],  # one inside the other
        [interval(0, (12,), (9,))],  # end before start
        [interval(0, (9,), (9,))],  # empty
        [interval(7, (9,), (12,))],  # no such weekday
    ],
)
def test_bad_hours_leave_the_old_ones_untouched(business_a, bad):
    with schema_context(business_a.schema):
        services.weekly_hours_replace(resource=None, intervals=[interval(4, (9,), (17,))])
        with pytest.raises(services.SchedulingError):
            services.weekly_hours_replace(resource=None, intervals=[interval(1, (9,), (10,)), *bad])
        assert list(WeeklyHours.objects.filter(resource=None).values_list("weekday", "start", "end")) == [
            (4, time(9), time(17))
        ]


def test_touching_intervals_are_allowed(business_a):
    with schema_context(business_a.schema):
        services.weekly_hours_replace(
            resource=None, intervals=[interval(0, (9,), (12,)), interval(0, (12,), (13,))]
        )
        assert len(selectors.weekly_hours(resource=None)[0]) == 2


def test_a_failing_write_rolls_the_delete_back(business_a, monkeypatch):
    """The delete and the insert are one transaction: a crash in between keeps the old set."""
    with schema_context(business_a.schema):
        services.weekly_hours_replace(resource=None, intervals=[interval(0, (9,), (17,))])

        def broken(*args, **kwargs):
            raise IntegrityError("disk on fire")

        monkeypatch.setattr(WeeklyHours.objects, "bulk_create", broken)
        with pytest.raises(IntegrityError):
            services.weekly_hours_replace(resource=None, intervals=[interval(1, (9,), (17,))])
        monkeypatch.undo()
        assert selectors.weekly_hours(resource=None)[0] == [(time(9), time(17))]


def test_bookable_hours_follow_the_engine(business_a):
    with schema_context(business_a.schema):
        anna = Resource.objects.create(kind="staff", name="Anna")
        services.weekly_hours_replace(
            resource=None, intervals=[interval(0, (9,), (18,)), interval(1, (9,), (18,))]
        )
        # Without own hours: the opening hours.
        assert selectors.bookable_hours(resource=anna)[0] == [(time(9), time(18))]
        # Own hours count only inside the opening hours; a day the business is closed stays closed.
        services.weekly_hours_replace(
            resource=anna, intervals=[interval(0, (7,), (12,)), interval(2, (9,), (12,))]
        )
        bookable = selectors.bookable_hours(resource=anna)
        assert bookable[0] == [(time(9), time(12))]
        assert bookable[1] == [] and bookable[2] == []


def test_closures_are_created_and_deleted(business_a):
    with schema_context(business_a.schema):
        anna = Resource.objects.create(kind="staff", name="Anna")
        start, end = datetime(2030, 5, 1, 8, tzinfo=UTC), datetime(2030, 5, 3, tzinfo=UTC)
        closure = services.closure_create(resource=anna, start=start, end=end, reason="  Urlaub ")
        assert (closure.resource, closure.reason) == (anna, "Urlaub")
        with pytest.raises(services.SchedulingError):
            services.closure_create(resource=None, start=end, end=start)
        with pytest.raises(ValueError):
            services.closure_create(resource=None, start=datetime(2030, 1, 1), end=datetime(2030, 1, 2))
        services.closure_delete(closure=closure)
        assert not Closure.objects.exists()


def test_holiday_import_counts_new_and_existing(business_a):
    with schema_context(business_a.schema):
        first = services.holidays_import_counted(state="BY", years=[2030], time_zone="Europe/Berlin")
        assert first.added > 10 and first.existing == 0
        again = services.holidays_import_counted(state="BY", years=[2030, 2031], time_zone="Europe/Berlin")
        assert again.existing == first.added and again.added > 10
        with pytest.raises(services.SchedulingError):
            services.holidays_import_counted(state="Augsburg", years=[2030], time_zone="Europe/Berlin")
