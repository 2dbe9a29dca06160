"""The staff API of appointment series: preview, book (all or nothing, or the chosen dates), read, move and
cancel this and following; another business sees and changes nothing of it."""

from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django_tenants.utils import schema_context

from termino.shared import timeutils
from termino.tenants.scheduling import lifecycle, services
from termino.tenants.scheduling.events import Actor
from termino.tenants.scheduling.models import Appointment, Resource, Series, Service
from tests.conftest import PASSWORD, client_for
from tests.tenants.backoffice.helpers import make_user

from .factories import salon

pytestmark = [pytest.mark.django_db, pytest.mark.clock]
BERLIN = ZoneInfo("Europe/Berlin")


def token_client(business):
    client = client_for(business.host, "en")
    response = client.post(
        "/api/v1/auth/token/", {"username": business.owner_username, "password": business.password}
    )
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {response.json()['token']}"
    return client


def post(client, path, data):
    return client.post(path, data, content_type="application/json")


@pytest.fixture
def api(business_a):
    with schema_context(business_a.schema):
        service, (anna, _ben), _room = salon(name="Krankengymnastik")
    first = timeutils.next_weekday(1, BERLIN, after=timeutils.today(BERLIN) + timedelta(days=2))
    rule = {
        "service": service.pk,
        "staff": anna.pk,
        "first_date": first.isoformat(),
        "time": "10:00",
        "frequency": "weekly",
        "count": 6,
    }
    return token_client(business_a), business_a, rule, service, anna, first


def test_preview_then_book_with_the_alternative(api):
    client, business, rule, service, anna, first = api
    with schema_context(business.schema):
        lifecycle.appointment_book(
            actor=Actor(source="backoffice"),
            booking=services.Booking(
                service=service,
                start=timeutils.local_at(first + timedelta(weeks=3), time(10), BERLIN),
                staff=anna,
            ),
        )
    preview = post(client, "/api/v1/series/preview/", rule)
    assert preview.status_code == 200, preview.json()
    occurrences = preview.json()["occurrences"]
    assert [o["free"] for o in occurrences] == [True, True, True, False, True, True]
    taken = occurrences[3]
    assert "already booked from 10:00 to 10:30" in taken["reason"]
    assert taken["alternative"]["staff"] == anna.pk
    with schema_context(business.schema):
        assert not Series.objects.exists()  # a preview stores nothing

    everything = post(client, "/api/v1/series/", rule)
    assert everything.status_code == 409
    assert "Nothing was booked: 1 date is taken" in everything.json()["detail"]

    chosen = [o["start"] if o["free"] else o["alternative"]["start"] for o in occurrences]
    booked = post(client, "/api/v1/series/", {**rule, "occurrences": chosen})
    assert booked.status_code == 201, booked.json()
    body = booked.json()
    assert len(body["appointments"]) == 6
    assert body["appointments"][3]["start"] == taken["alternative"]["start"]
    assert client.get(f"/api/v1/series/{body['id']}/").json()["appointments"] == body["appointments"]
    assert [s["id"] for s in client.get("/api/v1/series/").json()["results"]] == [body["id"]]


def test_cancel_and_move_this_and_following(api):
    client, business, rule, *_ = api
    made = post(client, "/api/v1/series/", rule).json()
    ids = [a["id"] for a in made["appointments"]]
    cancelled = post(
        client, f"/api/v1/series/{made['id']}/cancel/", {"appointment": ids[4], "scope": "following"}
    )
    assert cancelled.status_code == 200, cancelled.json()
    assert [a["status"] for a in cancelled.json()["appointments"]] == ["confirmed"] * 4 + ["cancelled"] * 2

    second = made["appointments"][1]["start"]
    new_start = second.replace("T10:00", "T11:15")
    moved = post(
        client,
        f"/api/v1/series/{made['id']}/move/",
        {"appointment": ids[1], "scope": "following", "start": new_start},
    )
    assert moved.status_code == 200, moved.json()
    with schema_context(business.schema):
        walls = [
            timeutils.localtime(a.start, BERLIN).time()
            for a in Appointment.objects.filter(series_id=made["id"]).order_by("start")
        ]
    # Cancelled ones stay where they were.
    assert walls == [time(10), time(11, 15), time(11, 15), time(11, 15), time(10), time(10)]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"count": 53}, "count"),
        ({"count": None, "until": None}, "count"),
        ({"weekdays": [7]}, "weekdays"),
        ({"interval": 0}, "interval"),
        ({"time": "25:00"}, "time"),
    ],
)
def test_bad_rules_are_400_with_the_field(api, change, field):
    client, _business, rule, *_ = api
    response = post(client, "/api/v1/series/preview/", {**rule, **change})
    assert response.status_code == 400
    assert field in response.json()


def test_too_many_dates_by_until_is_a_clear_400(api):
    client, _business, rule, _service, _anna, first = api
    response = post(
        client,
        "/api/v1/series/preview/",
        {**rule, "count": None, "until": (first + timedelta(days=400)).isoformat()},
    )
    assert response.status_code == 400
    assert "more than 52" in response.json()["detail"]


def test_nothing_half_written_on_bad_occurrences(api):
    client, business, rule, *_ = api
    response = post(client, "/api/v1/series/", {**rule, "occurrences": []})
    assert response.status_code == 400
    with schema_context(business.schema):
        assert not Series.objects.exists()
        assert not Appointment.objects.exists()


def test_business_b_cannot_see_or_change_a_series_of_a(api, business_b):
    client, business_a, rule, *_ = api
    made = post(client, "/api/v1/series/", rule).json()
    first_id = made["appointments"][0]["id"]
    other = token_client(business_b)
    assert other.get(f"/api/v1/series/{made['id']}/").status_code == 404
    assert other.get("/api/v1/series/").json()["results"] == []
    cancel = post(
        other, f"/api/v1/series/{made['id']}/cancel/", {"appointment": first_id, "scope": "following"}
    )
    assert cancel.status_code == 404
    # A's token is no key at B's host either.
    assert client_for(business_b.host).get(
        f"/api/v1/series/{made['id']}/", HTTP_AUTHORIZATION=client.defaults["HTTP_AUTHORIZATION"]
    ).status_code in (401, 403, 404)
    with schema_context(business_a.schema):
        assert set(Appointment.objects.filter(series_id=made["id"]).values_list("status", flat=True)) == {
            "confirmed"
        }


def test_a_staff_member_previews_and_books_only_in_their_own_column(api, business_a):
    client, business, rule, _service, _anna, _first = api
    user = make_user(business_a, "staff", staff_name="Carla")
    with schema_context(business.schema):
        carla = Resource.objects.get(user=user)
        carla.services.add(Service.objects.get(pk=rule["service"]))
    staff_client = client_for(business.host, "en")
    token = staff_client.post(
        "/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}
    ).json()["token"]
    staff_client.defaults["HTTP_AUTHORIZATION"] = f"Token {token}"
    assert post(staff_client, "/api/v1/series/preview/", rule).status_code == 403  # Anna's column
    own = {**rule, "staff": None}
    preview = post(staff_client, "/api/v1/series/preview/", own)
    assert preview.status_code == 200
    booked = post(staff_client, "/api/v1/series/", own)
    assert booked.status_code == 201, booked.json()
    assert {a["resources"][0] for a in booked.json()["appointments"]} == {carla.pk}
    # The owner's series with Anna stays invisible to Carla.
    other = post(client, "/api/v1/series/", rule).json()
    assert staff_client.get(f"/api/v1/series/{other['id']}/").status_code == 404
