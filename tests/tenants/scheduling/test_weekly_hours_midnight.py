"""Weekly hours that end at midnight (24:00, stored as 00:00), and nights entered as two intervals.

The database constraint, the staff API, the service that replaces a week, the calendar grid, and a customer
booking 23:30–00:30 on the public page when Monday is open until 24:00 and Tuesday from 00:00.
"""

import re
from datetime import datetime, time, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django_tenants.utils import schema_context

from termino.shared import timeutils
from termino.tenants.accounts.services import api_token_create
from termino.tenants.scheduling import selectors, services
from termino.tenants.scheduling.availability import END_OF_DAY, WeeklyInterval
from termino.tenants.scheduling.calendar import calendar_feed, visible_hours
from termino.tenants.scheduling.models import Appointment, WeeklyHours
from tests.conftest import client_for
from tests.tenants.booking.public_helpers import booking_body, public_post

from .factories import BERLIN, salon

pytestmark = pytest.mark.django_db

NIGHT_MESSAGE = {
    "en": "An interval cannot run past midnight. Enter 22:00–24:00 on Monday and 00:00–06:00 on Tuesday.",
    "de": "Ein Zeitraum kann nicht über Mitternacht hinausgehen. Tragen Sie 22:00–24:00 am Montag und "
    "00:00–06:00 am Dienstag ein.",
}


def api_client(business, language="en"):
    with schema_context(business.schema):
        owner = get_user_model().objects.get(username=business.owner_username)
        token = api_token_create(user=owner, name="tests").key
    client = client_for(business.host, language)
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {token}"
    return client


def post(client, path, data):
    return client.post(path, data, content_type="application/json")


# --- the database ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "allowed"),
    [
        (time(22), END_OF_DAY, True),  # 22:00–24:00
        (time(0), END_OF_DAY, True),  # the whole day
        (time(0), time(6), True),
        (time(22), time(6), False),  # across midnight: two intervals instead
        (time(9), time(9), False),
        (time(18), time(9), False),
    ],
)
def test_the_database_allows_an_end_at_midnight_and_nothing_across_it(business_a, start, end, allowed):
    with schema_context(business_a.schema):
        if allowed:
            row = WeeklyHours.objects.create(weekday=0, start=start, end=end)
            row.refresh_from_db()
            assert (row.start, row.end) == (start, end)
        else:
            with pytest.raises(IntegrityError), transaction.atomic():
                WeeklyHours.objects.create(weekday=0, start=start, end=end)


# --- the staff API ---------------------------------------------------------------------------------------


def test_api_accepts_2400_and_answers_it(business_a):
    client = api_client(business_a)
    created = post(client, "/api/v1/hours/", {"weekday": 0, "start": "22:00", "end": "24:00"})
    assert created.status_code == 201, created.json()
    assert (created.json()["start"], created.json()["end"]) == ("22:00:00", "24:00:00")
    with schema_context(business_a.schema):
        assert WeeklyHours.objects.get(pk=created.json()["id"]).end == END_OF_DAY
    whole = post(client, "/api/v1/hours/", {"weekday": 1, "start": "00:00", "end": "24:00:00"})
    assert whole.status_code == 201 and whole.json()["end"] == "24:00:00"
    # 00:00 as an end means the same, and is answered the same way.
    same = post(client, "/api/v1/hours/", {"weekday": 2, "start": "20:00", "end": "00:00"})
    assert same.status_code == 201 and same.json()["end"] == "24:00:00"
    listed = client.get("/api/v1/hours/?resource=business").json()["results"]
    assert [(r["weekday"], r["start"], r["end"]) for r in listed] == [
        (0, "22:00:00", "24:00:00"),
        (1, "00:00:00", "24:00:00"),
        (2, "20:00:00", "24:00:00"),
    ]
    changed = client.patch(
        f"/api/v1/hours/{created.json()['id']}/", {"end": "23:00"}, content_type="application/json"
    )
    assert changed.status_code == 200 and changed.json()["end"] == "23:00:00"
    changed = client.patch(
        f"/api/v1/hours/{created.json()['id']}/", {"end": "24:00"}, content_type="application/json"
    )
    assert changed.status_code == 200 and changed.json()["end"] == "24:00:00"


@pytest.mark.parametrize("language", ["en", "de"])
def test_api_refuses_a_night_shift_and_says_how_to_enter_it(business_a, language):
    client = api_client(business_a, language)
    refused = post(client, "/api/v1/hours/", {"weekday": 0, "start": "22:00", "end": "06:00"})
    assert refused.status_code == 400
    assert refused.json() == {"end": [NIGHT_MESSAGE[language]]}
    with schema_context(business_a.schema):
        assert not WeeklyHours.objects.exists()


def test_api_night_shift_on_sunday_continues_on_monday_and_patch_is_checked_too(business_a):
    client = api_client(business_a)
    refused = post(client, "/api/v1/hours/", {"weekday": 6, "start": "20:00", "end": "02:30"})
    assert refused.json()["end"] == [
        "An interval cannot run past midnight. Enter 20:00–24:00 on Sunday and 00:00–02:30 on Monday."
    ]
    row = post(client, "/api/v1/hours/", {"weekday": 6, "start": "20:00", "end": "23:00"}).json()
    patched = client.patch(f"/api/v1/hours/{row['id']}/", {"end": "05:00"}, content_type="application/json")
    assert patched.status_code == 400 and "00:00–05:00 on Monday" in patched.json()["end"][0]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (
            {"start": "24:00", "end": "24:00"},
            "start",
            "24:00 can only end an interval; a day starts at 00:00.",
        ),
        ({"start": "09:00", "end": "24:30"}, "end", "Time has wrong format"),
        ({"start": "09:00", "end": "25:00"}, "end", "Time has wrong format"),
        ({"start": "10:00", "end": "10:00"}, "end", "The end must be after the start."),
    ],
)
def test_api_refuses_other_bad_times(business_a, body, field, message):
    refused = post(api_client(business_a), "/api/v1/hours/", {"weekday": 0, **body})
    assert refused.status_code == 400 and message in refused.json()[field][0]


def test_openapi_describes_2400_as_an_end_only(business_a):
    schema = api_client(business_a).get("/api/schema/?format=json").json()
    hours = schema["components"]["schemas"]["WeeklyHours"]["properties"]
    end, start = re.compile(hours["end"]["pattern"]), re.compile(hours["start"]["pattern"])
    assert all(end.match(text) for text in ["24:00", "24:00:00", "23:59", "00:00", "09:30:15"])
    assert not any(end.match(text) for text in ["24:30", "24:00:01", "25:00"])
    assert start.match("00:00") and not start.match("24:00")
    assert "24:00" in hours["end"]["description"]


# --- the service -----------------------------------------------------------------------------------------


def test_replacing_a_week_keeps_2400_and_refuses_a_night_shift(business_a):
    with schema_context(business_a.schema):
        night = [
            WeeklyInterval(0, time(22), END_OF_DAY),
            WeeklyInterval(0, time(18), time(22)),
            WeeklyInterval(1, time(0), time(6)),
        ]
        services.weekly_hours_replace(resource=None, intervals=night)
        assert selectors.weekly_hours(resource=None)[:2] == [
            [(time(18), time(22)), (time(22), END_OF_DAY)],
            [(time(0), time(6))],
        ]
        with pytest.raises(services.SchedulingError) as refused:
            services.weekly_hours_replace(resource=None, intervals=[WeeklyInterval(0, time(22), time(6))])
        assert refused.value.message == NIGHT_MESSAGE["en"]
        with pytest.raises(services.SchedulingError) as overlap:
            services.weekly_hours_replace(
                resource=None,
                intervals=[WeeklyInterval(4, time(20), END_OF_DAY), WeeklyInterval(4, time(23), END_OF_DAY)],
            )
        assert overlap.value.message == "20:00–24:00 and 23:00–24:00 overlap."
        assert len(selectors.weekly_hours(resource=None)[0]) == 2  # nothing changed


# --- the calendar and the resource page ------------------------------------------------------------------


def test_calendar_shows_working_time_until_midnight(business_a):
    with schema_context(business_a.schema):
        _service, (anna, _), _room = salon()
        WeeklyHours.objects.all().delete()
        monday = timeutils.next_weekday(0, BERLIN)
        WeeklyHours.objects.create(weekday=0, start=time(20), end=END_OF_DAY)
        feed = calendar_feed(first_day=monday, last_day=monday, resources=[anna], time_zone="Europe/Berlin")
        assert feed.open[(anna.pk, monday)] == [(20 * 60, 24 * 60)]  # 20:00–24:00
        assert visible_hours() == (20 * 60, 24 * 60)


def test_bookable_hours_of_a_resource_read_2400(business_a):
    with schema_context(business_a.schema):
        _service, (anna, _), _room = salon()
        WeeklyHours.objects.all().delete()
        WeeklyHours.objects.create(weekday=0, start=time(8), end=END_OF_DAY)
        WeeklyHours.objects.create(resource=anna, weekday=0, start=time(20), end=END_OF_DAY)
        assert selectors.bookable_hours(resource=anna)[0] == [(time(20), END_OF_DAY)]


# --- a customer books across midnight --------------------------------------------------------------------


def test_customer_books_2330_to_0030_across_two_intervals(business_a):
    """Monday 22:00–24:00 and Tuesday 00:00–06:00: the booking page offers 23:30 on Monday, and takes it."""
    with schema_context(business_a.schema):
        service, _staff, _room = salon(duration_minutes=60, staff_count=1)
        WeeklyHours.objects.all().delete()
        WeeklyHours.objects.create(weekday=0, start=time(22), end=END_OF_DAY)
        WeeklyHours.objects.create(weekday=1, start=time(0), end=time(6))
    monday = timeutils.next_weekday(0, BERLIN)
    offered = availability(business_a, service, monday)
    # Every quarter hour from 22:00; the last ones run on into Tuesday morning.
    assert [f"{start:%H:%M}" for start, _end in offered] == [
        "22:00", "22:15", "22:30", "22:45", "23:00", "23:15", "23:30", "23:45",
    ]  # fmt: skip
    start, end = offered[6]
    assert (end.date(), f"{end:%H:%M}") == (monday + timedelta(days=1), "00:30")

    booked = public_post(business_a.host, "bookings/", booking_body(service, start))
    assert booked.status_code == 201, booked.json()
    with schema_context(business_a.schema):
        appointment = Appointment.objects.get()
        assert appointment.start == start and appointment.end - appointment.start == timedelta(hours=1)
        assert timeutils.localtime(appointment.end, BERLIN).strftime("%a %H:%M") == "Tue 00:30"
    # Tuesday's slots now begin at 00:30: 00:00 and 00:15 would overlap the booking.
    tuesday = availability(business_a, service, monday + timedelta(days=1))
    assert [f"{s:%H:%M}" for s, _e in tuesday[:2]] == ["00:30", "00:45"]


def availability(business, service, day) -> list[tuple[datetime, datetime]]:
    answer = client_for(business.host).get(
        f"/api/public/v1/availability/?service={service.pk}&start={day.isoformat()}&end={day.isoformat()}"
    )
    assert answer.status_code == 200
    return [
        (datetime.fromisoformat(s["start"]), datetime.fromisoformat(s["end"])) for s in answer.json()["slots"]
    ]
