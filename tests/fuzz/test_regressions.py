"""Server errors and schema mismatches the fuzzer found, each kept as a plain regression test."""

import json
from datetime import time

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from termino.tenants.accounts.services import api_token_create
from termino.tenants.scheduling import services
from termino.tenants.scheduling.models import Closure, Resource, Service
from tests.conftest import client_for
from tests.tenants.booking.public_helpers import booking_body, public_post
from tests.tenants.scheduling.factories import next_monday, salon

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(business_a):
    with schema_context(business_a.schema):
        key = api_token_create(user=get_user_model().objects.get(role="owner"), name="fuzz").key
    client = client_for(business_a.host, "en")
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {key}"
    return client


@pytest.fixture
def booked(business_a):
    """A service and a staff member with an appointment."""
    with schema_context(business_a.schema):
        service, (staff, *_), room = salon()
        services.appointment_create(
            booking=services.Booking(service=service, start=next_monday(time(10)), staff=staff)
        )
        return service, staff, room


def send(client, method, path, data=None):
    return client.generic(method, path, json.dumps(data or {}), content_type="application/json")


@pytest.mark.parametrize(
    "change",
    [
        {"colour": "red"},  # was a 500: check constraint service_colour_hex
        {"colour": "#12345"},
        {"duration_minutes": 0},  # service_duration_positive
        {"capacity": 0},
        {"slot_step_minutes": 0},
        {"horizon_days": 0},
        {"price": "-1.00"},
    ],
)
def test_a_service_breaking_a_table_rule_is_a_400(api, business_a, booked, change):
    service, _staff, _room = booked
    response = send(api, "PATCH", f"/api/v1/services/{service.pk}/", change)
    assert response.status_code == 400, response.content
    assert set(response.json()) == set(change)
    response = send(api, "POST", "/api/v1/services/", {"name": "Neu", "duration_minutes": 30, **change})
    assert response.status_code == 400, response.content
    with schema_context(business_a.schema):
        assert Service.objects.get(pk=service.pk).colour == service.colour
        assert not Service.objects.filter(name="Neu").exists()


def test_deleting_a_service_with_appointments_is_refused_not_a_500(api, business_a, booked):
    service, _staff, _room = booked
    response = send(api, "DELETE", f"/api/v1/services/{service.pk}/")
    assert response.status_code == 400
    assert "Deactivate it instead" in response.json()["detail"]
    with schema_context(business_a.schema):
        assert Service.objects.filter(pk=service.pk).exists()


def test_deleting_a_staff_member_with_appointments_is_refused_not_a_500(api, business_a, booked):
    _service, staff, room = booked
    response = send(api, "DELETE", f"/api/v1/resources/{staff.pk}/")
    assert response.status_code == 400
    assert "Deactivate it instead" in response.json()["detail"]
    assert send(api, "DELETE", f"/api/v1/resources/{room.pk}/").status_code == 204  # never booked
    with schema_context(business_a.schema):
        assert Resource.objects.filter(pk=staff.pk).exists()
        assert not Resource.objects.filter(pk=room.pk).exists()


def test_a_room_cannot_have_a_login(api, business_a, booked):
    """Was a 500: check constraint resource_only_staff_has_user."""
    _service, staff, room = booked
    with schema_context(business_a.schema):
        owner = get_user_model().objects.get(role="owner")
    response = send(api, "POST", "/api/v1/resources/", {"kind": "room", "name": "Raum 9", "user": owner.pk})
    assert response.status_code == 400 and "user" in response.json()
    assert send(api, "PATCH", f"/api/v1/resources/{room.pk}/", {"user": owner.pk}).status_code == 400
    response = send(api, "PATCH", f"/api/v1/resources/{staff.pk}/", {"user": owner.pk})
    assert response.status_code == 200
    assert send(api, "PATCH", f"/api/v1/resources/{staff.pk}/", {"kind": "room"}).status_code == 400
    with schema_context(business_a.schema):
        assert not Resource.objects.filter(name="Raum 9").exists()
        assert Resource.objects.get(pk=room.pk).user is None


@pytest.mark.parametrize("start", ["0107-01-13T08:24:29+01:00", "6108-06-13T20:52:04+02:00"])
def test_a_closure_in_a_far_off_year_is_refused(api, business_a, start):
    """Was answered with a UTC offset like +00:53:28 (Berlin's local mean time) that no client can parse."""
    response = send(api, "POST", "/api/v1/closures/", {"start": start, "end": "2031-01-01T00:00:00+01:00"})
    assert response.status_code == 400 and "start" in response.json()
    with schema_context(business_a.schema):
        assert not Closure.objects.exists()


def test_opening_hours_are_described_as_wall_clock_times(api, booked):
    """JSON Schema's `format: time` needs an offset ("09:00:00Z"); opening hours have none."""
    from tests.fuzz.test_openapi import RAW_SCHEMA

    hours = RAW_SCHEMA["components"]["schemas"]["WeeklyHours"]["properties"]
    assert "format" not in hours["start"] and hours["start"]["pattern"]
    listed = api.get("/api/v1/hours/").json()["results"]
    assert listed and all(len(row["start"]) == 8 and row["start"].count(":") == 2 for row in listed)


@pytest.mark.parametrize("start", ["0001-01-01T00:00:00Z", "9999-12-31T23:00:00Z", "0279-06-03T09:03:42Z"])
def test_a_hold_in_a_far_off_year_is_a_400(business_a, booked, start):
    """Was a 500 for year 1: OverflowError in the slot search."""
    service, _staff, _room = booked
    client = client_for(business_a.host, "en")
    response = send(client, "POST", "/api/public/v1/holds/", {"service": service.pk, "start": start})
    assert response.status_code == 400 and "start" in response.json()


@pytest.mark.parametrize("query", ["end=9999-12-31", "start=0001-01-01", "start=2030-01-01&end=9999-12-31"])
def test_listing_appointments_up_to_year_9999_is_a_400(api, query):
    """Was a 500: OverflowError when the end date plus a day passed year 9999."""
    response = api.get(f"/api/v1/appointments/?{query}")
    assert response.status_code == 400


def test_an_appointment_cannot_move_to_a_far_off_year(api, business_a, booked):
    """Was accepted, and then answered with a start like 0279-06-03T09:03:42+00:53:28."""
    service, _staff, _room = booked
    far_off = "0279-06-03T09:03Z"
    with schema_context(business_a.schema):
        appointment = service.appointments.get()
    response = send(api, "POST", f"/api/v1/appointments/{appointment.pk}/move/", {"start": far_off})
    assert response.status_code == 400 and "start" in response.json()
    response = send(api, "POST", "/api/v1/appointments/", {"service": service.pk, "start": far_off})
    assert response.status_code == 400 and "start" in response.json()
    with schema_context(business_a.schema):
        appointment.refresh_from_db()
        assert appointment.start.year > 2000


# --- Anonymous 500s of issue 15 (now refused by termino/shared/guard; test_garbage.py covers every route) --


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/public/v1/bookings/a%00b/"),
        ("GET", "/book/manage/a%00b/"),
        ("GET", "/book/ics/a%00b.ics"),
        ("DELETE", "/api/public/v1/holds/a%00b/"),
        ("POST", "/api/public/v1/bookings/a%00b/cancel/"),
    ],
)
def test_a_nul_in_a_manage_token_is_a_400(business_a, method, path):
    """Was a 500: DataError, PostgreSQL text cannot hold NUL (0x00)."""
    response = client_for(business_a.host, "en").generic(method, path)
    assert response.status_code == 400
    assert "null character" in response.content.decode()


def test_a_nul_in_the_idempotency_key_of_a_valid_booking_is_a_400(business_a, booked):
    """Was a 500: the key went into the IdempotentRequest row. Nothing is booked."""
    service, _staff, _room = booked
    body = booking_body(service, next_monday(time(15)))
    response = public_post(business_a.host, "bookings/", body, HTTP_IDEMPOTENCY_KEY="retry-\x00-1")
    assert response.status_code == 400 and "null character" in response.json()["detail"]
    assert public_post(business_a.host, "bookings/", body, HTTP_IDEMPOTENCY_KEY="retry-1").status_code == 201
    with schema_context(business_a.schema):
        assert service.appointments.filter(start=next_monday(time(15))).count() == 1


@pytest.mark.parametrize("path", ["/api/v1/auth/token/", "/api/public/v1/bookings/", "/api/v1/services/"])
def test_json_nested_100000_deep_is_a_400(business_a, path):
    """Was a 500: RecursionError in the JSON parser, on every JSON endpoint."""
    response = client_for(business_a.host, "en").generic("POST", path, "[" * 100_000, "application/json")
    assert response.status_code == 400
    assert response.json()["detail"] == "The JSON is nested too deeply (at most 64 levels)."


def test_a_300_character_file_name_under_media_is_a_404(business_a, settings, tmp_path):
    """Was a 500: OSError "File name too long" from the filesystem."""
    settings.MEDIA_ROOT = str(tmp_path)
    (tmp_path / business_a.schema).mkdir()
    response = client_for(business_a.host, "en").get(f"/media/{business_a.schema}/{'x' * 300}")
    assert response.status_code == 404
