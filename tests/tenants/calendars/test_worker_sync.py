"""End to end through a real Celery worker and a real Radicale: Anna connects her calendar on the settings
page, a busy event there removes her slots from the booking page's API after "Sync now"; a booking here
appears there, a move updates it in place (and her subscription feed), a cancellation removes it."""

import time
from datetime import time as clock
from datetime import timedelta

import icalendar
from celery.contrib.testing.worker import start_worker
from django.db import connection
from django_tenants.utils import schema_context

from termino import celery_app
from termino.tenants.calendars.models import CalDavConnection
from tests.conftest import client_for
from tests.tenants.backoffice.helpers import log_in_as
from tests.tenants.booking.public_helpers import booking_body, public_post
from tests.tenants.scheduling.factories import next_monday

from .helpers import team
from .radicale_server import PASSWORD, event_ics


def _wait(condition, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError("the worker did not get there in time")


def _free(business, service, staff) -> set[str]:
    day = next_monday().date().isoformat()
    response = client_for(business.host).get(
        f"/api/public/v1/availability/?service={service.pk}&start={day}&end={day}&resource={staff.pk}"
    )
    return {slot["start"][11:16] for slot in response.json()["slots"]}


def _events_there(radicale, name):
    found = {}
    for text in radicale.events("anna", name):
        for event in icalendar.Calendar.from_ical(text).walk("VEVENT"):
            found[str(event["UID"])] = event
    return found


def _state(business):
    with schema_context(business.schema):
        state = CalDavConnection.objects.values_list("state", flat=True).first()
    connection.set_schema_to_public()
    return state


def test_caldav_both_ways_and_the_feed_through_a_real_worker(committed_db, radicale):
    business = committed_db("t-calsync")
    service, anna, _ben, (anna_user, _) = team(business)
    url = radicale.make_calendar("anna", "worker-sync")
    anna_client = log_in_as(business, "staff", user=anna_user)
    owner = log_in_as(business, "owner")
    celery_app.control.purge()  # what provisioning queued (refilling spare schemas) is not this test's
    with start_worker(celery_app, perform_ping_check=False, loglevel="WARNING"):
        saved = anna_client.post("/account/calendar/", {"url": url, "username": "anna", "password": PASSWORD})
        assert saved.status_code == 302
        _wait(lambda: _state(business) == "ok")
        assert 'data-state="ok"' in anna_client.get("/account/calendar/").content.decode()
        anna_client.post("/account/calendar/feed/")
        with schema_context(business.schema):
            from termino.tenants.calendars.models import FeedToken
            from termino.tenants.calendars.selectors import feed_token_text

            feed_path = f"/calendar/{feed_token_text(FeedToken.objects.get(revoked_at__isnull=True))}.ics"
        connection.set_schema_to_public()

        # A busy event in her calendar there removes her slots here.
        assert "10:00" in _free(business, service, anna)
        radicale.put_event(
            "anna", "worker-sync", event_ics("zahnarzt", next_monday(clock(10)), next_monday(clock(12)))
        )
        assert anna_client.post("/account/calendar/caldav/sync/").status_code == 302
        _wait(lambda: "10:00" not in _free(business, service, anna))
        assert {"09:00", "12:00"} <= _free(business, service, anna)

        # A booking here appears there.
        booked = public_post(
            business.host, "bookings/", booking_body(service, next_monday(clock(14)), staff=anna.pk)
        )
        assert booked.status_code == 201, booked.content
        appointment_id = booked.json()["id"]
        uid = f"appointment-{appointment_id}@{business.schema}.termino"
        event = _wait(lambda: _events_there(radicale, "worker-sync").get(uid))
        assert event.decoded("DTSTART") == next_monday(clock(14))
        feed = client_for(business.host).get(feed_path)
        etag = feed["ETag"]

        # A move updates it in place there and in her feed.
        moved = owner.post(
            f"/api/v1/appointments/{appointment_id}/move/",
            {"start": next_monday(clock(16)).isoformat()},
            content_type="application/json",
        )
        assert moved.status_code == 200, moved.content
        event = _wait(
            lambda: (
                (e := _events_there(radicale, "worker-sync").get(uid))
                and e.decoded("DTSTART") == next_monday(clock(16))
                and e
            )
        )
        assert int(event["SEQUENCE"]) >= 1
        assert len([u for u in _events_there(radicale, "worker-sync") if u.startswith("appointment-")]) == 1
        feed = client_for(business.host).get(feed_path, HTTP_IF_NONE_MATCH=etag)
        assert feed.status_code == 200
        (in_feed,) = icalendar.Calendar.from_ical(feed.content).walk("VEVENT")
        assert str(in_feed["UID"]) == uid and in_feed.decoded("DTSTART") == next_monday(clock(16))
        assert in_feed.decoded("DTEND") - in_feed.decoded("DTSTART") == timedelta(minutes=30)

        # Cancelled here: gone there.
        cancelled = owner.post(
            f"/api/v1/appointments/{appointment_id}/cancel/", {}, content_type="application/json"
        )
        assert cancelled.status_code == 200, cancelled.content
        _wait(lambda: uid not in _events_there(radicale, "worker-sync"))


def test_a_wrong_password_shows_on_the_page_and_booking_goes_on(committed_db, radicale):
    business = committed_db("t-calsync-bad")
    service, anna, _ben, (anna_user, _) = team(business)
    url = radicale.make_calendar("anna", "worker-bad")
    anna_client = log_in_as(business, "staff", user=anna_user)
    owner = log_in_as(business, "owner")
    celery_app.control.purge()  # what provisioning queued (refilling spare schemas) is not this test's
    with start_worker(celery_app, perform_ping_check=False, loglevel="WARNING"):
        anna_client.post("/account/calendar/", {"url": url, "username": "anna", "password": "falsch"})
        _wait(lambda: _state(business) == "auth_failed")
        page = anna_client.get("/account/calendar/").content.decode()
        assert 'data-state="auth_failed"' in page and "refused the user name or password" in page
        assert 'data-state="auth_failed"' in owner.get("/account/calendar/business/").content.decode()
        booked = public_post(
            business.host, "bookings/", booking_body(service, next_monday(clock(10)), staff=anna.pk)
        )
        assert booked.status_code == 201, booked.content
        time.sleep(0.5)  # the push runs, finds the password refused, and leaves the booking alone
        assert _state(business) == "auth_failed"
