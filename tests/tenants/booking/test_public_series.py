"""Courses booked online: a service booked only as a whole series (N appointments, the same weekday and local
time every W weeks, one staff member). Starts are offered only where every occurrence is free (across a
daylight-saving change too); the booking stores all of them or nothing (409 naming the date), sends one
message for the whole course, and its manage link cancels the appointments still to come. 50 customers
racing for the last start get one course; another business neither sees nor books it."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import time_machine
from django.db import connection
from django_tenants.utils import schema_context

from termino.shared import timeutils
from termino.tenants.business.models import BusinessSettings
from termino.tenants.crm.models import Consent, Customer
from termino.tenants.notifications import rendering
from termino.tenants.notifications.models import MessageKind, OutboxMessage
from termino.tenants.scheduling import lifecycle
from termino.tenants.scheduling import services as scheduling
from termino.tenants.scheduling.events import Actor
from termino.tenants.scheduling.models import (
    Allocation,
    Appointment,
    AppointmentStatus,
    Series,
    Service,
    WeeklyHours,
)
from tests.conftest import client_for
from tests.tenants.scheduling.factories import next_monday, salon

from .public_helpers import booking_body, public_post, race
from .test_waitlist_api import join_body

# The race commits for real (committed_db); every other test runs in its own rolled-back transaction.
db = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
STAFF = Actor(source="backoffice")
CONTENDERS = 50
COURSE = {"name": "Rückenkurs", "duration_minutes": 60, "online_series_count": 4}


def course(**fields):
    """A course of 4 weekly appointments of an hour, Anna and Ben teach it (Mon–Sat 09:00–18:00)."""
    service, staff, _room = salon(**{**COURSE, **fields})
    return service, staff


def weekly(start: datetime, count: int = 4, weeks: int = 1) -> list[datetime]:
    """The local wall-clock time of `start` on the same weekday, every `weeks` weeks (Berlin)."""
    local = timeutils.localtime(start, BERLIN)
    return [
        timeutils.local_at(local.date() + timedelta(weeks=weeks * k), local.time(), BERLIN)
        for k in range(count)
    ]


def availability(business, service, day, **params):
    query = f"service={service.pk}&start={day}&end={day}" + "".join(f"&{k}={v}" for k, v in params.items())
    return client_for(business.host, "en").get(f"/api/public/v1/availability/?{query}")


def starts_on(business, service, day, **params) -> dict[datetime, dict]:
    answer = availability(business, service, day, **params)
    assert answer.status_code == 200, answer.content
    return {datetime.fromisoformat(s["start"]): s for s in answer.json()["slots"]}


def block(service, start, staff):
    """Someone else's appointment of the same length at `start` with `staff` (booked by the team)."""
    return lifecycle.appointment_book(
        actor=STAFF, booking=scheduling.Booking(service=service, start=start, staff=staff)
    )


# --- Availability ------------------------------------------------------------------------------------------


@db
@pytest.mark.clock
def test_a_start_is_offered_only_when_every_occurrence_is_free(business_a):
    with schema_context(business_a.schema):
        service, (anna, ben) = course(staff_count=2)
        other = Service.objects.create(name="Einzelstunde", duration_minutes=60, min_notice_minutes=0)
        other.resources.set([anna, ben])
        start = next_monday()  # 10:00
        third = weekly(start)[2]
        block(other, third, anna)
        block(other, third, ben)  # nobody teaches at 10:00 in the third week
    offered = starts_on(business_a, service, start.date())
    assert start not in offered
    nine = start - timedelta(hours=1)
    assert nine in offered and start + timedelta(hours=1) in offered
    # 09:00 is offered, with all four dates and both teachers; 09:15 would run into 10:00 in week three.
    assert [datetime.fromisoformat(o["start"]) for o in offered[nine]["occurrences"]] == weekly(nine)
    assert offered[nine]["resources"] == [anna.pk, ben.pk]
    assert nine + timedelta(minutes=15) not in offered
    # Asked for one teacher: the same answer for her.
    assert start not in starts_on(business_a, service, start.date(), resource=anna.pk)


@db
def test_the_whole_course_is_with_one_and_the_same_staff_member(business_a):
    with schema_context(business_a.schema):
        service, (anna, ben) = course(staff_count=2)
        other = Service.objects.create(name="Einzelstunde", duration_minutes=60, min_notice_minutes=0)
        other.resources.set([anna, ben])
        start = next_monday()
        dates = weekly(start)
        block(other, dates[1], anna)  # Anna is away in week two, Ben in week three:
        block(other, dates[2], ben)  # each week someone is free, but nobody for all four
    assert start not in starts_on(business_a, service, start.date())
    refused = public_post(business_a.host, "bookings/", booking_body(service, start))
    assert refused.status_code == 409
    with schema_context(business_a.schema):
        assert not Appointment.objects.filter(service=service).exists()


@db
def test_starts_keep_their_local_time_across_the_change_to_summer_time(business_a):
    """Pinned on 10 March 2027: a weekly course from Monday 15 March runs into summer time (28 March). Its
    dates are 10:00 local each time (09:00 UTC, then 08:00 UTC); an appointment at 11:00 CEST on 29 March,
    the same instant in UTC as 10:00 CET before the change, does not block the 10:00 course, but 11:00."""
    with time_machine.travel(datetime(2027, 3, 10, 9, 0, tzinfo=UTC), tick=True):
        with schema_context(business_a.schema):
            service, (anna,) = course(staff_count=1)
            other = Service.objects.create(name="Einzelstunde", duration_minutes=60, min_notice_minutes=0)
            other.resources.set([anna])
            day = datetime(2027, 3, 15).date()
            ten = timeutils.local_at(day, time(10), BERLIN)
            block(other, timeutils.local_at(datetime(2027, 3, 29).date(), time(11), BERLIN), anna)
        offered = starts_on(business_a, service, day)
        assert ten in offered and ten + timedelta(hours=1) not in offered
        occurrences = [datetime.fromisoformat(o["start"]) for o in offered[ten]["occurrences"]]
        assert [o.astimezone(UTC).hour for o in occurrences] == [9, 9, 8, 8]
        assert {timeutils.localtime(o, BERLIN).time() for o in occurrences} == {time(10)}
        booked = public_post(business_a.host, "bookings/", booking_body(service, ten))
        assert booked.status_code == 201, booked.json()
        assert [datetime.fromisoformat(o["start"]) for o in booked.json()["occurrences"]] == occurrences


@db
def test_every_other_week_and_the_horizon_counts_for_the_first_date_only(business_a):
    with schema_context(business_a.schema):
        service, _staff = course(online_series_interval_weeks=2, online_series_count=3, horizon_days=10)
    start = next_monday()
    offered = starts_on(business_a, service, start.date())
    occurrences = [datetime.fromisoformat(o["start"]) for o in offered[start]["occurrences"]]
    assert occurrences == weekly(start, count=3, weeks=2)  # the last one four weeks away, past the horizon
    assert starts_on(business_a, service, (start + timedelta(days=14)).date()) == {}  # beyond the horizon


@db
def test_a_group_course_needs_a_seat_in_every_session(business_a):
    with schema_context(business_a.schema):
        service, (_anna,) = course(staff_count=1, capacity=2)
        BusinessSettings.objects.update_or_create(id=1, defaults={"max_open_bookings": 5})
    start = next_monday()
    for n in range(2):
        body = booking_body(service, start, email=f"teil{n}@example.com", phone="", sms_consent=False)
        answer = public_post(business_a.host, "bookings/", body)
        assert answer.status_code == 201, answer.json()
    assert start not in starts_on(business_a, service, start.date())  # every session is full
    third = public_post(
        business_a.host,
        "bookings/",
        booking_body(service, start, email="dritte@example.com", phone="", sms_consent=False),
    )
    assert third.status_code == 409
    with schema_context(business_a.schema):
        assert Appointment.objects.filter(service=service).count() == 8
        sessions = Allocation.objects.filter(appointment__service=service).values_list("session", flat=True)
        assert len(set(sessions)) == 4  # both customers share each of the four sessions


# --- Booking -----------------------------------------------------------------------------------------------


@db
@pytest.mark.clock
def test_booking_stores_every_appointment_with_one_message_and_one_manage_link(business_a):
    with schema_context(business_a.schema):
        service, (anna, _ben) = course(staff_count=2)
        BusinessSettings.objects.update_or_create(id=1, defaults={"team_notice_email": False})
    start = next_monday()
    answer = public_post(business_a.host, "bookings/", booking_body(service, start, resource=anna.pk))
    assert answer.status_code == 201, answer.json()
    data = answer.json()
    assert data["status"] == "confirmed" and data["manage_token"]
    assert [datetime.fromisoformat(o["start"]) for o in data["occurrences"]] == weekly(start)
    with schema_context(business_a.schema):
        (series,) = Series.objects.all()
        appointments = list(Appointment.objects.filter(series=series).order_by("start"))
        assert [a.start for a in appointments] == weekly(start)
        assert {a.status for a in appointments} == {AppointmentStatus.CONFIRMED}
        assert {a.source for a in appointments} == {"widget"}
        assert set(
            Allocation.objects.filter(appointment__in=appointments).values_list("resource_id", flat=True)
        ) == {anna.pk}
        assert [a.manage_token is not None for a in appointments] == [True, False, False, False]
        customer = Customer.objects.get()
        assert series.customer == customer and series.count == 4
        assert {a.customer_id for a in appointments} == {customer.pk}
        assert set(Consent.objects.filter(customer=customer).values_list("kind", flat=True)) == {
            "privacy",
            "sms_reminders",
        }
        # One message for the course (e-mail and SMS), naming every date and the manage link.
        messages = OutboxMessage.objects.filter(customer=customer).exclude(kind=MessageKind.REMINDER)
        assert sorted(m.kind for m in messages) == [MessageKind.SERIES, MessageKind.SERIES]
        email = messages.get(channel="email")
        _subject, text = rendering.render(email, tenant=business_a.tenant)
        assert data["manage_url"] in text
        assert text.count(":00") >= 4
    calendar = client_for(business_a.host).get(f"/book/ics/{data['manage_token']}.ics")
    events = icalendar.Calendar.from_ical(calendar.content).walk("VEVENT")
    assert [e.decoded("dtstart") for e in events] == weekly(start)


@db
def test_a_course_waiting_for_approval_is_requested_with_one_message_and_confirmed_with_one(business_a):
    with schema_context(business_a.schema):
        service, _staff = course()
        BusinessSettings.objects.update_or_create(
            id=1, defaults={"approval_required": True, "team_notice_email": False}
        )
    answer = public_post(business_a.host, "bookings/", booking_body(service, next_monday()))
    assert answer.status_code == 201, answer.json()
    assert answer.json()["status"] == "requested"
    with schema_context(business_a.schema):
        appointments = list(Appointment.objects.filter(service=service).order_by("start"))
        assert {a.status for a in appointments} == {AppointmentStatus.REQUESTED}
        kinds = list(OutboxMessage.objects.values_list("kind", "channel"))
        assert sorted(kinds) == [(MessageKind.REQUEST, "email"), (MessageKind.REQUEST, "sms")]
        for appointment in reversed(appointments):  # the team approves them one by one, last first
            lifecycle.appointment_confirm(actor=STAFF, appointment=appointment)
        series_messages = OutboxMessage.objects.filter(kind=MessageKind.SERIES)
        assert series_messages.count() == 2  # e-mail and SMS, once for the course
        assert {m.appointment_id for m in series_messages} == {appointments[0].pk}  # with the manage link
        assert not OutboxMessage.objects.filter(kind=MessageKind.CONFIRMATION).exists()


@db
@pytest.mark.clock
def test_one_taken_date_gives_a_409_naming_it_and_stores_nothing(business_a):
    with schema_context(business_a.schema):
        service, (anna,) = course(staff_count=1)
        other = Service.objects.create(name="Einzelstunde", duration_minutes=60, min_notice_minutes=0)
        other.resources.set([anna])
    start = next_monday()
    assert start in starts_on(business_a, service, start.date())
    with schema_context(business_a.schema):
        block(other, weekly(start)[3], anna)  # taken while the customer was typing
    refused = public_post(business_a.host, "bookings/", booking_body(service, start))
    assert refused.status_code == 409
    fourth = timeutils.localtime(weekly(start)[3], BERLIN)
    assert f"{fourth:%d.%m.%Y} 10:00" in refused.json()["detail"]
    assert all("occurrences" in s for s in refused.json()["nearest"])
    with schema_context(business_a.schema):
        assert Appointment.objects.filter(service=service).count() == 0
        assert not Series.objects.exists() and not Customer.objects.exists()
        assert not OutboxMessage.objects.exists()


@db
@pytest.mark.clock
def test_the_manage_link_cancels_the_appointments_still_to_come_and_cannot_move_them(business_a):
    with schema_context(business_a.schema):
        service, _staff = course()
        BusinessSettings.objects.update_or_create(id=1, defaults={"team_notice_email": False})
    start = next_monday()
    token = public_post(business_a.host, "bookings/", booking_body(service, start)).json()["manage_token"]
    moved = public_post(business_a.host, f"bookings/{token}/reschedule/", {"start": start.isoformat()})
    assert moved.status_code == 400 and "course" in moved.json()["detail"]
    # A week and a day later the first date has passed: the link cancels the three to come.
    with time_machine.travel(start + timedelta(days=1), tick=True):
        shown = client_for(business_a.host).get(f"/api/public/v1/bookings/{token}/").json()
        assert shown["changeable"] and len(shown["occurrences"]) == 4
        cancelled = public_post(business_a.host, f"bookings/{token}/cancel/")
        assert cancelled.status_code == 200, cancelled.json()
        statuses = [o["status"] for o in cancelled.json()["occurrences"]]
        assert statuses == ["confirmed", "cancelled", "cancelled", "cancelled"]
        assert (
            client_for(business_a.host).get(f"/api/public/v1/bookings/{token}/").json()["changeable"] is False
        )
        again = public_post(business_a.host, f"bookings/{token}/cancel/")
        assert again.status_code == 400
    with schema_context(business_a.schema):
        changes = OutboxMessage.objects.filter(kind=MessageKind.SERIES_CHANGE)
        assert changes.count() == 2  # one message (e-mail and SMS) for the three cancelled together
        assert not Allocation.objects.filter(active=True, appointment__start__gt=start).exists()


@db
def test_the_team_hears_of_a_course_booked_and_cancelled_online_once(business_a):
    with schema_context(business_a.schema):
        service, _staff = course()
        BusinessSettings.objects.update_or_create(
            id=1, defaults={"team_notice_email": True, "team_notice_email_to": "team@example.com"}
        )
    token = public_post(business_a.host, "bookings/", booking_body(service, next_monday())).json()[
        "manage_token"
    ]
    assert public_post(business_a.host, f"bookings/{token}/cancel/").status_code == 200
    with schema_context(business_a.schema):
        notices = OutboxMessage.objects.filter(recipient="team@example.com")
        assert sorted(notices.values_list("kind", flat=True)) == [
            MessageKind.TEAM_BOOKED,
            MessageKind.TEAM_CANCELLED,
        ]
        assert "Rückenkurs" in notices.get(kind=MessageKind.TEAM_BOOKED).subject


@db
def test_the_open_bookings_limit_counts_a_course_once(business_a):
    with schema_context(business_a.schema):
        service, _staff = course()
        single, _s, _r = salon(name="Einzel", staff_count=1)
        BusinessSettings.objects.update_or_create(id=1, defaults={"max_open_bookings": 2})
    start = next_monday()
    assert public_post(business_a.host, "bookings/", booking_body(service, start)).status_code == 201
    one_more = public_post(business_a.host, "bookings/", booking_body(single, start + timedelta(days=1)))
    assert one_more.status_code == 201, one_more.json()
    refused = public_post(business_a.host, "bookings/", booking_body(single, start + timedelta(days=2)))
    assert refused.status_code == 400 and "2 open bookings" in refused.json()["detail"]


# --- Concurrency -------------------------------------------------------------------------------------------


def test_50_customers_racing_for_the_last_start_get_exactly_one_course(committed_db):
    business = committed_db("t-course-race")
    with schema_context(business.schema):
        service, (anna,) = course(staff_count=1, slot_step_minutes=60)
        BusinessSettings.objects.update_or_create(id=1, defaults={"team_notice_email": False})
        # Monday is Anna's only day, 10:00–11:00: the course has one start in that week.
        WeeklyHours.objects.create(resource=anna, weekday=0, start=time(10), end=time(11))
    connection.set_schema_to_public()
    start = next_monday()
    assert list(starts_on(business, service, start.date())) == [start]

    def prepare(n: int):
        body = booking_body(service, start, email=f"kunde{n}@example.com", phone="", sms_consent=False)
        return n, body

    def attempt(prepared):
        n, body = prepared
        return public_post(business.host, "bookings/", body, REMOTE_ADDR=f"10.9.{n}.1").status_code

    codes = race(CONTENDERS, prepare, attempt)
    assert sorted(codes) == [201] + [409] * (CONTENDERS - 1)
    with schema_context(business.schema):
        (series,) = Series.objects.all()
        appointments = Appointment.objects.filter(service=service)
        assert appointments.count() == 4 and {a.series_id for a in appointments} == {series.pk}
        assert Customer.objects.count() == 1
        assert [a.start for a in appointments.order_by("start")] == weekly(start)
    assert starts_on(business, service, start.date()) == {}


# --- Isolation and garbage -------------------------------------------------------------------------------


@db
def test_another_business_neither_sees_nor_books_the_course(business_a, business_b):
    with schema_context(business_a.schema):
        service, _staff = course()
    start = next_monday()
    assert availability(business_b, service, start.date()).status_code == 400
    assert public_post(business_b.host, "bookings/", booking_body(service, start)).status_code == 400
    token = public_post(business_a.host, "bookings/", booking_body(service, start)).json()["manage_token"]
    assert client_for(business_b.host).get(f"/api/public/v1/bookings/{token}/").status_code == 404
    assert public_post(business_b.host, f"bookings/{token}/cancel/").status_code == 404
    assert client_for(business_b.host).get(f"/book/ics/{token}.ics").status_code == 404
    with schema_context(business_b.schema):
        assert not Appointment.objects.exists() and not Series.objects.exists()
    with schema_context(business_a.schema):
        assert set(Appointment.objects.values_list("status", flat=True)) == {AppointmentStatus.CONFIRMED}


@db
@pytest.mark.parametrize(
    "changes",
    [
        {"service": "abc"},
        {"start": "next monday"},
        {"start": "2027-13-40T10:00:00+01:00"},
        {"start": "1850-01-01T10:00:00+01:00"},
        {"privacy_consent": False},
        {"resource": "x"},
        {"email": "", "phone": ""},
        {"form_token": "forged"},
    ],
)
def test_garbage_gets_a_400_and_stores_nothing(business_a, changes):
    with schema_context(business_a.schema):
        service, _staff = course()
    answer = public_post(business_a.host, "bookings/", {**booking_body(service, next_monday()), **changes})
    assert answer.status_code == 400, answer.content
    with schema_context(business_a.schema):
        assert not Appointment.objects.exists() and not Customer.objects.exists()


@db
def test_a_course_is_never_booked_or_held_in_pieces(business_a):
    with schema_context(business_a.schema):
        service, (_anna, _ben) = course()
        cut, _s, _r = salon(name="Schnitt", staff_count=1)
    start = next_monday()
    off_grid = public_post(business_a.host, "bookings/", booking_body(service, start + timedelta(minutes=7)))
    assert off_grid.status_code == 409
    held = public_post(
        business_a.host,
        "holds/",
        {
            "service": service.pk,
            "start": start.isoformat(),
            "form_token": booking_body(service, start)["form_token"],
        },
    )
    assert held.status_code == 400 and "course" in held.json()["detail"]
    visit = booking_body(service, start)
    visit.pop("service")
    visit["services"] = [{"service": cut.pk, "resource": None}, {"service": service.pk, "resource": None}]
    assert public_post(business_a.host, "visits/", visit).status_code == 400
    waitlist = public_post(business_a.host, "waitlist/", join_body(service))
    assert waitlist.status_code == 400 and "course" in str(waitlist.json()), waitlist.json()
    for query in ("start=2027-01-01&end=2026-01-01", "start=x&end=y", "end=2027-01-01"):
        answer = client_for(business_a.host).get(f"/api/public/v1/availability/?service={service.pk}&{query}")
        assert answer.status_code == 400
    with schema_context(business_a.schema):
        assert not Appointment.objects.exists()
        assert not Customer.objects.exists()  # the refused waitlist entry left no customer behind
        assert not Customer.objects.exists()  # the refused waitlist entry left no customer behind
