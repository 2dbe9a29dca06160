"""CalDAV both ways against a real Radicale: busy events there remove slots from the public availability
API; appointments here are written there, updated in place when moved and removed when cancelled; a wrong
password or a deleted calendar is a clear state and never stands in the way of a booking."""

from datetime import time, timedelta

import icalendar
import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db import connection
from django_tenants.utils import schema_context

from termino.tenants.calendars import services as calendars
from termino.tenants.calendars.models import CalDavConnection, ExternalBusy
from termino.tenants.scheduling import lifecycle
from termino.tenants.scheduling.models import Closure
from tests.conftest import client_for
from tests.tenants.booking.public_helpers import booking_body, public_post
from tests.tenants.scheduling.factories import next_monday

from .helpers import SYSTEM, book, team
from .radicale_server import PASSWORD, event_ics

pytestmark = pytest.mark.django_db


def _slots(business, service, staff) -> list[str]:
    day = next_monday().date().isoformat()
    response = client_for(business.host).get(
        f"/api/public/v1/availability/?service={service.pk}&start={day}&end={day}&resource={staff.pk}"
    )
    assert response.status_code == 200
    return [slot["start"][11:16] for slot in response.json()["slots"]]


def _connect(business, staff, url, password=PASSWORD):
    with schema_context(business.schema):
        conn = calendars.caldav_connect(resource=staff, url=url, username="anna", password=password)
        state = calendars.caldav_pull(connection_id=conn.pk, on_demand=True)
    connection.set_schema_to_public()
    return conn, state


def _pull(business, conn):
    with schema_context(business.schema):
        state = calendars.caldav_pull(connection_id=conn.pk, on_demand=True)
        conn.refresh_from_db()
    connection.set_schema_to_public()
    return state


@pytest.mark.clock
def test_a_busy_event_there_removes_the_slots_here(business_a, radicale):
    service, anna, ben, _users = team(business_a)
    url = radicale.make_calendar("anna", "sync-busy")
    conn, state = _connect(business_a, anna, url)
    assert state == "ok"
    assert "10:00" in _slots(business_a, service, anna)
    radicale.put_event(
        "anna",
        "sync-busy",
        event_ics("dentist", next_monday(time(10)), next_monday(time(12))),
        href="dentist.ics",
    )
    assert _pull(business_a, conn) == "ok"
    free = _slots(business_a, service, anna)
    assert not {"09:45", "10:00", "10:30", "11:30"} & set(free)
    assert {"09:00", "09:30", "12:00"} <= set(free)
    assert "10:00" in _slots(business_a, service, ben)  # only her column
    # Unchanged calendar: nothing is written again.
    with schema_context(business_a.schema):
        closure_ids = set(Closure.objects.values_list("pk", flat=True))
    assert _pull(business_a, conn) == "unchanged"
    with schema_context(business_a.schema):
        assert set(Closure.objects.values_list("pk", flat=True)) == closure_ids
    # The event moved there: the closure follows.
    radicale.put_event(
        "anna",
        "sync-busy",
        event_ics("dentist", next_monday(time(14)), next_monday(time(15))),
        href="dentist.ics",
    )
    assert _pull(business_a, conn) == "ok"
    free = _slots(business_a, service, anna)
    assert "14:00" not in free and "10:00" in free


def test_appointments_are_written_there_moved_in_place_and_removed(business_a, radicale):
    service, anna, _ben, _users = team(business_a)
    url = radicale.make_calendar("anna", "sync-push")
    conn, _state = _connect(business_a, anna, url)
    with schema_context(business_a.schema):
        appointment = book(service, anna, time(10))
        assert calendars.caldav_push(appointment_id=appointment.pk, connection_id=conn.pk) == "written"
        assert calendars.caldav_push(appointment_id=appointment.pk, connection_id=conn.pk) == "unchanged"
    (text,) = radicale.events("anna", "sync-push")
    event = icalendar.Calendar.from_ical(text).walk("VEVENT")[0]
    uid = str(event["UID"])
    assert str(event["SUMMARY"]) == "Haarschnitt – Lena" and "Fischer" not in text
    with schema_context(business_a.schema):
        moved = lifecycle.appointment_move(actor=SYSTEM, appointment=appointment, start=next_monday(time(15)))
        assert calendars.caldav_push(appointment_id=moved.pk, connection_id=conn.pk) == "written"
    (text,) = radicale.events("anna", "sync-push")
    event = icalendar.Calendar.from_ical(text).walk("VEVENT")[0]
    assert str(event["UID"]) == uid and int(event["SEQUENCE"]) >= 1
    assert event.decoded("DTSTART") == next_monday(time(15))
    # Our own event there never comes back as busy time here.
    assert _pull(business_a, conn) == "ok"
    with schema_context(business_a.schema):
        assert not ExternalBusy.objects.exists()
        lifecycle.appointment_cancel(actor=SYSTEM, appointment=moved)
        assert calendars.caldav_push(appointment_id=moved.pk, connection_id=conn.pk) == "deleted"
    assert radicale.events("anna", "sync-push") == []


def test_wrong_password_is_a_clear_state_and_booking_still_works(business_a, radicale):
    service, anna, _ben, _users = team(business_a)
    url = radicale.make_calendar("anna", "sync-wrong")
    conn, state = _connect(business_a, anna, url, password="not-it")
    assert state == "auth_failed"
    with schema_context(business_a.schema):
        conn.refresh_from_db()
        assert conn.state == "auth_failed" and conn.state_detail.startswith("401")
        appointment = book(service, anna, time(10))
        assert calendars.caldav_push(appointment_id=appointment.pk, connection_id=conn.pk) == "auth_failed"
    connection.set_schema_to_public()
    response = public_post(
        business_a.host, "bookings/", booking_body(service, next_monday(time(12)), staff=anna.pk)
    )
    assert response.status_code == 201, response.content


def test_a_deleted_calendar_frees_its_busy_times_and_says_so(business_a, radicale):
    service, anna, _ben, _users = team(business_a)
    url = radicale.make_calendar("anna", "sync-deleted")
    radicale.put_event("anna", "sync-deleted", event_ics("x", next_monday(time(10)), next_monday(time(11))))
    conn, _state = _connect(business_a, anna, url)
    assert "10:00" not in _slots(business_a, service, anna)
    radicale.delete_calendar("anna", "sync-deleted")
    assert _pull(business_a, conn) == "not_found"
    assert conn.state == "not_found"
    assert "10:00" in _slots(business_a, service, anna)
    response = public_post(business_a.host, "bookings/", booking_body(service, next_monday(time(10))))
    assert response.status_code == 201, response.content


def test_the_password_is_encrypted_at_rest_and_disconnect_frees_the_time(business_a, radicale):
    service, anna, _ben, _users = team(business_a)
    url = radicale.make_calendar("anna", "sync-disconnect")
    radicale.put_event(
        "anna", "sync-disconnect", event_ics("y", next_monday(time(10)), next_monday(time(11)))
    )
    conn, _state = _connect(business_a, anna, url)
    with schema_context(business_a.schema):
        stored = CalDavConnection.objects.values_list("password_encrypted", flat=True).get(pk=conn.pk)
        assert PASSWORD not in stored and stored.startswith("gAAAA")
        assert calendars.caldav_disconnect(resource=anna)
        assert not Closure.objects.exists()
    connection.set_schema_to_public()
    assert "10:00" in _slots(business_a, service, anna)


def test_pulls_are_never_more_often_than_the_minimum(business_a, radicale, settings):
    settings.CALDAV_MIN_PULL_SECONDS = 120
    _service, anna, _ben, _users = team(business_a)
    url = radicale.make_calendar("anna", "sync-often")
    conn, state = _connect(business_a, anna, url)
    assert state == "ok"
    assert _pull(business_a, conn) == "skipped"
    # Scheduled pulls come at the interval, through the due index's next time.
    with schema_context(business_a.schema):
        assert calendars.pull_next_due() == conn.next_pull_at
        assert conn.next_pull_at - conn.last_pulled_at == timedelta(
            seconds=settings.CALDAV_PULL_INTERVAL_SECONDS
        )


def test_a_deactivated_persons_calendar_is_neither_read_nor_written(business_a, radicale):
    from termino.tenants.accounts import services as accounts

    _service, anna, _ben, (anna_user, _) = team(business_a)
    with schema_context(business_a.schema):
        owner = get_user_model().objects.get(role="owner")
    url = radicale.make_calendar("anna", "sync-left")
    conn, state = _connect(business_a, anna, url)
    assert state == "ok"
    with schema_context(business_a.schema):
        assert calendars.push_targets([anna.pk]) == [conn.pk]
        CalDavConnection.objects.filter(pk=conn.pk).update(next_pull_at=next_monday() - timedelta(days=30))
        assert calendars.pull_next_due() is not None
        accounts.person_deactivate(acting_user=owner, member=anna_user)
        assert calendars.push_targets([anna.pk]) == []
        assert calendars.pull_next_due() is None  # the dispatcher is not woken for it again and again
        assert calendars.pull_due_run() == 0
        # Her appointments are no longer written there either.
        assert calendars.push_targets([anna.pk, _ben.pk]) == []


def test_completed_stays_there_and_an_erased_name_leaves(business_a, radicale):
    service, anna, _ben, _users = team(business_a)
    url = radicale.make_calendar("anna", "sync-erase")
    conn, _state = _connect(business_a, anna, url)
    with schema_context(business_a.schema):
        appointment = book(service, anna, time(10))
        calendars.caldav_push(appointment_id=appointment.pk, connection_id=conn.pk)
        with time_machine.travel(appointment.end + timedelta(hours=1), tick=True):
            lifecycle.appointment_complete(actor=SYSTEM, appointment=appointment)
        assert calendars.caldav_push(appointment_id=appointment.pk, connection_id=conn.pk) == "unchanged"
        lifecycle.appointments_anonymise(
            actor=SYSTEM, appointment_ids=[appointment.pk], changed_at=appointment.updated_at
        )
        assert calendars.caldav_push(appointment_id=appointment.pk, connection_id=conn.pk) == "written"
    (text,) = radicale.events("anna", "sync-erase")
    assert "Lena" not in text and "SUMMARY:Haarschnitt" in text
