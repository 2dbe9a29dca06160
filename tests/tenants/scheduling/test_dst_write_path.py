"""What the write path stores on the two daylight-saving nights of 2027 (Europe/Berlin).

28 March 2027: clocks jump from 02:00 CET to 03:00 CEST. 31 October 2027: from 03:00 CEST back to 02:00 CET,
so 02:00–02:59 happens twice. An appointment lasts its absolute length whatever the wall clock does.
"""

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django_tenants.utils import schema_context

from termino.tenants.scheduling.models import Appointment, Resource, Service, WeeklyHours
from tests.conftest import client_for
from tests.tenants.backoffice.helpers import log_in_as
from tests.tenants.booking.public_helpers import booking_body, public_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def night_shop(business_a):
    """A service bookable around the clock on Sundays, one staff member, no notice."""
    with schema_context(business_a.schema):
        service = Service.objects.create(
            name="Nachtdienst",
            duration_minutes=60,
            min_notice_minutes=0,
            horizon_days=400,
            slot_step_minutes=30,
        )
        staff = Resource.objects.create(kind="staff", name="Nora")
        service.resources.set([staff])
        WeeklyHours.objects.create(weekday=6, start=time(0), end=time(23, 30))
    return business_a, service, staff


def api_book(client, service, staff, start: str, *, minutes: int | None = None):
    if minutes is not None:
        with schema_context(client.business.schema):
            Service.objects.filter(pk=service.pk).update(duration_minutes=minutes)
    return client.post(
        "/api/v1/appointments/",
        {"service": service.pk, "staff": staff.pk, "start": start},
        content_type="application/json",
    )


@pytest.fixture
def staff_api(night_shop):
    business, service, staff = night_shop
    client = log_in_as(business, "owner")
    client.business = business
    return client, service, staff


def stored(business, pk: int) -> tuple[datetime, datetime, list]:
    with schema_context(business.schema):
        appointment = Appointment.objects.get(pk=pk)
        periods = [(a.period.lower, a.period.upper) for a in appointment.allocations.all()]
    return appointment.start, appointment.end, periods


def test_sixty_minutes_in_the_repeated_hour_last_sixty_real_minutes(staff_api):
    client, service, staff = staff_api
    first = api_book(client, service, staff, "2027-10-31T02:30:00+02:00")
    assert first.status_code == 201, first.json()
    start, end, periods = stored(client.business, first.json()["id"])
    assert end - start == timedelta(minutes=60)
    assert end == datetime(2027, 10, 31, 1, 30, tzinfo=UTC)  # 02:30+01:00, the second 02:30
    assert first.json()["end"] == "2027-10-31T02:30:00+01:00"
    assert periods == [(start, end)]
    # The second 02:30 is free: the first appointment ended exactly then.
    second = api_book(client, service, staff, "2027-10-31T02:30:00+01:00")
    assert second.status_code == 201, second.json()


def test_two_hours_across_the_skipped_hour_last_two_real_hours(staff_api):
    client, service, staff = staff_api
    first = api_book(client, service, staff, "2027-03-28T01:30:00+01:00", minutes=120)
    assert first.status_code == 201, first.json()
    start, end, _periods = stored(client.business, first.json()["id"])
    assert end - start == timedelta(hours=2)
    assert first.json()["end"] == "2027-03-28T04:30:00+02:00"
    # 03:30 CEST is one real hour after 01:30 CET: still taken, so no double booking.
    clash = api_book(client, service, staff, "2027-03-28T03:30:00+02:00", minutes=60)
    assert clash.status_code == 409
    assert "04:30" in clash.json()["detail"]


def test_a_local_time_in_the_skipped_hour_is_refused_naming_the_gap(staff_api):
    client, service, staff = staff_api
    response = api_book(client, service, staff, "2027-03-28T02:30:00")
    assert response.status_code == 400
    message = response.json()["start"][0]
    assert "02:30 does not exist on 28 March 2027 in Europe/Berlin" in message
    assert "from 02:00 to 03:00" in message
    with schema_context(client.business.schema):
        assert not Appointment.objects.exists()


def test_a_local_time_in_the_repeated_hour_asks_for_the_offset(staff_api):
    client, service, staff = staff_api
    response = api_book(client, service, staff, "2027-10-31T02:30:00")
    assert response.status_code == 400
    message = response.json()["start"][0]
    assert "happens twice" in message and "+02:00" in message and "+01:00" in message
    # With the offset it is clear which one is meant.
    assert api_book(client, service, staff, "2027-10-31T02:30:00+01:00").status_code == 201


def test_the_conflict_message_in_the_repeated_hour_shows_the_offset(staff_api):
    client, service, staff = staff_api
    assert api_book(client, service, staff, "2027-10-31T02:00:00+02:00", minutes=30).status_code == 201
    clash = api_book(client, service, staff, "2027-10-31T02:15:00+02:00", minutes=30)
    assert clash.status_code == 409
    assert "02:00 (UTC+02:00)" in clash.json()["detail"] and "02:30 (UTC+02:00)" in clash.json()["detail"]


def test_moving_into_the_skipped_hour_is_refused_and_changes_nothing(staff_api):
    client, service, staff = staff_api
    booked = api_book(client, service, staff, "2027-03-28T00:30:00")
    assert booked.status_code == 201
    before = stored(client.business, booked.json()["id"])
    moved = client.post(
        f"/api/v1/appointments/{booked.json()['id']}/move/",
        {"start": "2027-03-28T02:15:00"},
        content_type="application/json",
    )
    assert moved.status_code == 400 and "does not exist" in moved.json()["start"][0]
    assert stored(client.business, booked.json()["id"]) == before


@pytest.mark.parametrize(
    ("date", "wall", "status", "needle"),
    [
        ("2027-03-28", "02:30", 400, "does not exist"),
        ("2027-10-31", "02:30", 400, "happens twice"),
        ("2027-10-31", "03:30", 201, ""),
    ],
)
def test_the_calendar_dialog_applies_the_same_rule(night_shop, date, wall, status, needle):
    business, service, staff = night_shop
    client = log_in_as(business, "owner")
    response = client.post(
        "/calendar/book/",
        {"service": service.pk, "staff": staff.pk, "date": date, "time": wall, "last_name": "Nacht"},
    )
    assert response.status_code == status, response.content
    if needle:
        assert needle in response.json()["detail"]
    if needle == "happens twice":
        assert response.json()["offsets"] == ["+02:00", "+01:00"]
        chosen = client.post(
            "/calendar/book/",
            {
                "service": service.pk,
                "staff": staff.pk,
                "date": date,
                "time": wall,
                "offset": "+01:00",
                "last_name": "Nacht",
            },
        )
        assert chosen.status_code == 201, chosen.content
        start, end, _periods = stored(business, chosen.json()["id"])
        assert start == datetime(2027, 10, 31, 1, 30, tzinfo=UTC) and end - start == timedelta(hours=1)


def test_the_public_api_stores_what_the_engine_offers_on_the_autumn_night(night_shop):
    business, service, _staff = night_shop
    with time_machine.travel(datetime(2027, 10, 30, 12, tzinfo=UTC), tick=True):
        slots = (
            client_for(business.host, "en")
            .get(f"/api/public/v1/availability/?service={service.pk}&start=2027-10-31&end=2027-10-31")
            .json()["slots"]
        )
        starts = [slot["start"] for slot in slots]
        # Both 02:00 and both 02:30 are offered, each an hour long in real time.
        assert {"2027-10-31T02:30:00+02:00", "2027-10-31T02:30:00+01:00"} <= set(starts)
        for wanted in ("2027-10-31T02:30:00+02:00", "2027-10-31T02:30:00+01:00"):
            slot = next(s for s in slots if s["start"] == wanted)
            response = public_post(
                business.host,
                "bookings/",
                booking_body(service, datetime.fromisoformat(wanted), email=f"{wanted[-5:-3]}@example.com"),
            )
            assert response.status_code == 201, response.json()
            assert response.json()["start"] == slot["start"] and response.json()["end"] == slot["end"]
            start, end, _periods = stored(business, response.json()["id"])
            assert end - start == timedelta(hours=1)
