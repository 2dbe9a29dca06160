from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from termino.tenants.accounts.services import api_token_create
from termino.tenants.scheduling.models import Appointment, Service
from tests.conftest import client_for

from .factories import next_monday, salon

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(business_a):
    """A client authenticated at business A with a token, plus A's salon."""
    with schema_context(business_a.schema):
        service, staff, room = salon()
    client = client_for(business_a.host, "en")
    response = client.post(
        "/api/v1/auth/token/", {"username": business_a.owner_username, "password": business_a.password}
    )
    assert response.status_code == 200
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {response.json()['token']}"
    return client, service, staff, room


def post(client, path, data=None):
    return client.post(path, data or {}, content_type="application/json")


def test_token_needs_the_right_password(business_a):
    response = client_for(business_a.host, "en").post(
        "/api/v1/auth/token/", {"username": business_a.owner_username, "password": "nope-nope-nope"}
    )
    assert response.status_code == 400


def test_anonymous_gets_401_or_403(business_a):
    assert client_for(business_a.host).get("/api/v1/services/").status_code in (401, 403)


def test_service_crud_with_readable_errors(api):
    client, _service, _staff, _ = api
    created = post(client, "/api/v1/services/", {"name": "Bart", "duration_minutes": 20, "price": "15.00"})
    assert created.status_code == 201, created.json()
    sid = created.json()["id"]
    assert (
        client.patch(f"/api/v1/services/{sid}/", {"price": "17.50"}, content_type="application/json").json()[
            "price"
        ]
        == "17.50"
    )
    bad = post(client, "/api/v1/services/", {"name": "", "duration_minutes": -5, "colour": "red"})
    assert bad.status_code == 400
    assert set(bad.json()) >= {"name", "duration_minutes"}
    listing = client.get("/api/v1/services/").json()
    assert listing["count"] == 2 and {s["name"] for s in listing["results"]} == {"Haarschnitt", "Bart"}
    assert client.delete(f"/api/v1/services/{sid}/").status_code == 204


def test_hours_and_closures_validate(api):
    client, _, staff, _ = api
    bad = post(
        client, "/api/v1/hours/", {"resource": staff[0].pk, "weekday": 7, "start": "18:00", "end": "09:00"}
    )
    assert bad.status_code == 400 and "weekday" in bad.json()
    bad = post(
        client, "/api/v1/hours/", {"resource": staff[0].pk, "weekday": 1, "start": "18:00", "end": "18:00"}
    )
    assert bad.json() == {"end": ["The end must be after the start."]}
    ok = post(
        client,
        "/api/v1/closures/",
        {"start": "2026-12-24T00:00:00+01:00", "end": "2026-12-27T00:00:00+01:00", "reason": "Weihnachten"},
    )
    assert ok.status_code == 201


def test_create_appointment_then_409_naming_the_conflict(api):
    client, service, staff, _ = api
    start = next_monday()
    body = {"service": service.pk, "start": start.isoformat(), "staff": staff[0].pk}
    created = post(client, "/api/v1/appointments/", body)
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["start"] == start.isoformat()  # in the business's time zone, with offset
    assert data["resources"] == [staff[0].pk] and data["source"] == "api"
    clash = post(
        client, "/api/v1/appointments/", {**body, "start": (start + timedelta(minutes=15)).isoformat()}
    )
    assert clash.status_code == 409
    assert "Staff 1 is already booked" in clash.json()["detail"]
    assert clash.json()["conflicting_appointment"] == data["id"]


def test_appointment_input_errors_are_400(api):
    client, service, _, room = api
    assert post(client, "/api/v1/appointments/", {"service": 999999, "start": "soon"}).json().keys() >= {
        "service",
        "start",
    }
    wrong = post(
        client,
        "/api/v1/appointments/",
        {"service": service.pk, "start": next_monday().isoformat(), "staff": room.pk},
    )
    assert wrong.status_code == 400 and "staff" in wrong.json()


def test_move_cancel_no_show_complete(api):
    client, service, _staff, _ = api
    start = next_monday()
    aid = post(client, "/api/v1/appointments/", {"service": service.pk, "start": start.isoformat()}).json()[
        "id"
    ]
    moved = post(
        client, f"/api/v1/appointments/{aid}/move/", {"start": (start + timedelta(hours=2)).isoformat()}
    )
    assert moved.status_code == 200 and moved.json()["start"] == (start + timedelta(hours=2)).isoformat()
    early = post(client, f"/api/v1/appointments/{aid}/no-show/")
    assert early.status_code == 400 and "only once it has begun" in early.json()["detail"]
    with time_machine.travel(start + timedelta(hours=2, minutes=1), tick=True):
        assert post(client, f"/api/v1/appointments/{aid}/no-show/").json()["status"] == "no_show"
        assert post(client, f"/api/v1/appointments/{aid}/complete/").json()["status"] == "completed"
    aid2 = post(client, "/api/v1/appointments/", {"service": service.pk, "start": start.isoformat()}).json()[
        "id"
    ]
    cancelled = post(client, f"/api/v1/appointments/{aid2}/cancel/", {"reason": "Kunde krank"})
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["cancel_reason"] == "Kunde krank"
    again = post(client, f"/api/v1/appointments/{aid2}/confirm/")
    assert (
        again.status_code == 400 and "is cancelled and cannot be marked confirmed" in again.json()["detail"]
    )


def test_appointment_list_filters(api):
    client, service, staff, _ = api
    start = next_monday()
    post(
        client,
        "/api/v1/appointments/",
        {"service": service.pk, "start": start.isoformat(), "staff": staff[0].pk},
    )
    post(
        client,
        "/api/v1/appointments/",
        {"service": service.pk, "start": start.isoformat(), "staff": staff[1].pk},
    )
    day = start.date().isoformat()
    assert client.get(f"/api/v1/appointments/?start={day}&end={day}").json()["count"] == 2
    assert (
        client.get(f"/api/v1/appointments/?start={day}&end={day}&resource={staff[1].pk}").json()["count"] == 1
    )
    later = (start + timedelta(days=1)).date().isoformat()
    assert client.get(f"/api/v1/appointments/?start={later}").json()["count"] == 0
    bad = client.get(f"/api/v1/appointments/?start={later}&end={day}")
    assert bad.status_code == 400 and "end" in bad.json()


def test_availability_is_indented_for_a_reader_who_asks(api):
    client, service, _staff, _ = api
    path = (
        f"/api/v1/availability/?service={service.pk}&start={next_monday().date()}&end={next_monday().date()}"
    )
    compact = client.get(path)
    indented = client.get(path, HTTP_ACCEPT="application/json; indent=4")
    assert indented.status_code == 200 and b'{\n    "slots": [\n' in indented.content
    assert b"\n" not in compact.content and indented.json() == compact.json()


def test_availability_endpoint(api):
    client, service, staff, _ = api
    day = next_monday().date().isoformat()
    response = client.get(f"/api/v1/availability/?service={service.pk}&start={day}&end={day}")
    assert response.status_code == 200
    slots = response.json()["slots"]
    assert slots[0]["start"] == f"{day}T09:00:00+01:00" or slots[0]["start"] == f"{day}T09:00:00+02:00"
    assert slots[0]["resources"] == sorted(s.pk for s in staff)
    assert len(slots) == 35  # 09:00 … 17:30 every 15 minutes for a 30-minute service
    post(
        client,
        "/api/v1/appointments/",
        {"service": service.pk, "start": slots[0]["start"], "staff": staff[0].pk},
    )
    after = client.get(f"/api/v1/availability/?service={service.pk}&start={day}&end={day}").json()["slots"]
    assert after[0]["resources"] == [staff[1].pk]
    only = client.get(
        f"/api/v1/availability/?service={service.pk}&start={day}&end={day}&resource={staff[0].pk}"
    )
    assert only.json()["slots"][0]["start"] == slots[2]["start"]  # 09:30, right after the booking


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("service=abc&start=2026-01-01&end=2026-01-02", "service"),
        ("start=2026-01-01&end=2026-01-02", "service"),
        ("service={sid}&start=2026-13-01&end=2026-01-02", "start"),
        ("service={sid}&start=2026-01-05&end=2026-01-02", "end"),
        ("service={sid}&start=2026-01-01&end=2026-06-01", "end"),
        ("service=999999&start=2026-01-01&end=2026-01-02", "service"),
    ],
)
def test_availability_bad_input_is_400_with_the_field(api, query, field):
    client, service, _, _ = api
    response = client.get("/api/v1/availability/?" + query.format(sid=service.pk))
    assert response.status_code == 400
    assert field in response.json()


def test_openapi_schema_and_docs(api, business_a):
    client, *_ = api
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/availability/", "/api/v1/appointments/{id}/move/", "/api/v1/services/"} <= set(paths)
    assert client.get("/api/docs/").status_code == 200


def test_business_b_cannot_see_or_change_a(api, business_b):
    client_a, service, _staff, _ = api
    start = next_monday()
    aid = post(client_a, "/api/v1/appointments/", {"service": service.pk, "start": start.isoformat()}).json()[
        "id"
    ]
    with schema_context(business_b.schema):
        user = get_user_model().objects.get(username=business_b.owner_username)
        token_b = api_token_create(user=user, name="B").key
    # B's token at B's host: A's objects do not exist there.
    client_b = client_for(business_b.host, "en")
    client_b.defaults["HTTP_AUTHORIZATION"] = f"Token {token_b}"
    assert client_b.get(f"/api/v1/appointments/{aid}/").status_code == 404
    assert post(client_b, f"/api/v1/appointments/{aid}/cancel/").status_code == 404
    assert client_b.get(f"/api/v1/services/{service.pk}/").status_code == 404
    assert client_b.get("/api/v1/services/").json()["count"] == 0
    # B's token at A's host is unknown there.
    stolen = client_for(business_b.host.replace("beta-praxis", "alpha-salon"), "en")
    stolen.defaults["HTTP_AUTHORIZATION"] = f"Token {token_b}"
    assert stolen.get("/api/v1/appointments/").status_code == 401
    with schema_context(business_b.schema):
        assert not Appointment.objects.exists() and not Service.objects.exists()


def test_import_public_holidays_for_a_state(api):
    client, *_ = api
    first = post(client, "/api/v1/closures/import-holidays/", {"state": "BE", "year": 2027})
    assert first.status_code == 200 and first.json()["created"] >= 10
    assert post(client, "/api/v1/closures/import-holidays/", {"state": "BE", "year": 2027}).json() == {
        "created": 0
    }
    bad = post(client, "/api/v1/closures/import-holidays/", {"state": "XX", "year": 2027})
    assert bad.status_code == 400 and "state" in bad.json()


def test_a_service_becomes_a_course_through_the_api(api, business_a):
    """Courses (booked online as a whole series) are set through the staff API as in the backoffice."""
    client, service, _staff, _ = api
    path = f"/api/v1/services/{service.pk}/"
    for wrong in (
        {"online_series_count": 1},
        {"online_series_count": 53},
        {"online_series_count": 6, "online_series_interval_weeks": 0},
        {"online_series_count": 6, "online_series_interval_weeks": 5},
    ):
        refused = client.patch(path, wrong, content_type="application/json")
        assert refused.status_code == 400, (wrong, refused.json())
        assert set(refused.json()) <= {"online_series_count", "online_series_interval_weeks"}
        assert all(isinstance(text, str) and text for texts in refused.json().values() for text in texts)
    assert client.get(path).json()["online_series_count"] == 0  # nothing was half-written
    made = client.patch(
        path, {"online_series_count": 6, "online_series_interval_weeks": 2}, content_type="application/json"
    )
    assert made.status_code == 200, made.json()
    assert (made.json()["online_series_count"], made.json()["online_series_interval_weeks"]) == (6, 2)
    public = client_for(business_a.host, "en").get("/api/public/v1/services/").json()
    course = next(item for item in public["services"] if item["id"] == service.pk)
    assert (course["series"]["count"], course["series"]["interval_weeks"]) == (6, 2)
