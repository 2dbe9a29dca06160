"""The calendar's visit views (what calendar_visit.js posts): several services back to back booked at once
or not at all, the visit's services in the events feed, cancelling the whole visit; refusals as JSON with
a sentence, a staff member only in their own column, another business never reached."""

from datetime import timedelta

import pytest
from django_tenants.utils import schema_context

from termino.shared import timeutils
from termino.tenants.crm.models import Customer
from termino.tenants.scheduling import services as scheduling
from termino.tenants.scheduling.models import Appointment, AppointmentStatus, Resource, Service, Visit
from tests.tenants.backoffice.helpers import log_in_as, make_user
from tests.tenants.scheduling.factories import BERLIN, next_monday, salon

pytestmark = [pytest.mark.django_db, pytest.mark.clock]


@pytest.fixture
def shop(business_a):
    with schema_context(business_a.schema):
        cut, staff, _room = salon(name="Schnitt", duration_minutes=45, buffer_after_minutes=5)
        colour = Service.objects.create(
            name="Farbe", duration_minutes=60, processing_after_minutes=15, processing_minutes=30
        )
        colour.resources.set(staff)
        customer = Customer.objects.create(first_name="Lena", last_name="Vogel")
    monday = next_monday()
    form = {
        "service": cut.pk,
        "staff": staff[0].pk,
        "date": monday.date().isoformat(),
        "time": "10:00",
        "customer": customer.pk,
        "more_service": [colour.pk],
        "more_staff": [""],
    }
    return business_a, cut, colour, staff, monday, form


def _walls(appointments):
    return [(timeutils.wall_time(a.start, BERLIN), timeutils.wall_time(a.end, BERLIN)) for a in appointments]


def both_busy_when_the_colour_starts(business, colour, staff, monday):
    with schema_context(business.schema):
        for member in staff:
            scheduling.appointment_create(
                booking=scheduling.Booking(service=colour, start=monday + timedelta(minutes=50), staff=member)
            )


def test_a_visit_is_booked_back_to_back_and_shows_as_one_in_the_feed(shop):
    business, cut, colour, staff, monday, form = shop
    client = log_in_as(business)
    response = client.post("/calendar/visits/book/", form)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["message"] == "Visit booked: 2 services back to back."
    with schema_context(business.schema):
        parts = list(Appointment.objects.filter(visit_id=body["visit"]).order_by("start"))
        assert [a.service_id for a in parts] == [cut.pk, colour.pk]
        assert _walls(parts) == [("10:00", "10:45"), ("10:50", "11:50")]  # after the cut's 5 min buffer
        assert {a.customer_id for a in parts} == {int(form["customer"])}
        assert parts[0].allocations.get().resource_id == staff[0].pk

    day = monday.date()
    feed = client.get(
        "/calendar/events.json", {"start": day.isoformat(), "end": (day + timedelta(days=1)).isoformat()}
    ).json()["events"]
    shown = [e for e in feed if e.get("extendedProps", {}).get("visit") == body["visit"]]
    assert len(shown) == 2
    assert [(p["service"], p["from"]) for p in shown[0]["extendedProps"]["visitParts"]] == [
        ("Schnitt", "10:00"),
        ("Farbe", "10:50"),
    ]
    # The colour's processing time (11:05–11:35, the stylist free for others) is marked; the cut has none.
    cut_event, colour_event = shown
    assert (
        cut_event["extendedProps"]["processing"] is None and "cal-processing" not in cut_event["classNames"]
    )
    assert colour_event["extendedProps"]["processing"] == {"from": "11:05", "until": "11:35"}
    assert "cal-processing" in colour_event["classNames"]
    assert {"--gap-from: 25.00%", "--gap-to: 75.00%"} <= set(colour_event["styles"])


def test_a_taken_part_books_nothing_and_says_who_holds_it(shop):
    business, _cut, colour, staff, monday, form = shop
    both_busy_when_the_colour_starts(business, colour, staff, monday)
    with schema_context(business.schema):
        before = Appointment.objects.count()
    response = log_in_as(business).post("/calendar/visits/book/", form)
    assert response.status_code == 409
    assert "already booked" in response.json()["detail"]
    with schema_context(business.schema):
        assert Appointment.objects.count() == before
        assert not Visit.objects.exists()
        assert Customer.objects.count() == 1  # a new customer typed in would not be left behind either


def test_a_new_customer_is_not_left_behind_when_the_visit_is_refused(shop):
    business, _cut, colour, staff, monday, form = shop
    both_busy_when_the_colour_starts(business, colour, staff, monday)
    new = {**form, "customer": "", "first_name": "Max", "last_name": "Neu", "phone": "0171 1234567"}
    assert log_in_as(business).post("/calendar/visits/book/", new).status_code == 409
    with schema_context(business.schema):
        assert not Customer.objects.filter(last_name="Neu").exists()


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"more_service": []}, "Add at least one more service"),
        ({"more_service": ["999999"]}, "Please choose a service for every part"),
        ({"more_service": [""]}, "Please choose a service for every part"),
        ({"more_staff": ["abc"]}, "Please choose a staff member from the list."),
        ({"more_service": ["x"] * 5}, "at most 5 services"),
        ({"time": "25:00"}, "time"),
        ({"customer": "", "last_name": ""}, "at least a last name"),
    ],
)
def test_bad_input_is_a_400_with_a_sentence(shop, change, words):
    business, *_rest, form = shop
    response = log_in_as(business).post("/calendar/visits/book/", {**form, **change})
    assert response.status_code == 400
    assert words.lower() in response.json()["detail"].lower()
    with schema_context(business.schema):
        assert not Visit.objects.exists()


def test_a_group_service_is_refused_as_part_of_a_visit(shop):
    business, _cut, _colour, staff, _monday, form = shop
    with schema_context(business.schema):
        course = Service.objects.create(name="Kurs", duration_minutes=60, capacity=8)
        course.resources.set(staff)
    response = log_in_as(business).post("/calendar/visits/book/", {**form, "more_service": [course.pk]})
    assert response.status_code == 400
    assert "group session" in response.json()["detail"]


def test_cancelling_the_whole_visit(shop):
    business, *_rest, form = shop
    client = log_in_as(business)
    booked = client.post("/calendar/visits/book/", form).json()
    second = booked["appointments"][1]
    response = client.post(f"/calendar/appointments/{second}/visit-cancel/", {"reason": "krank"})
    assert response.status_code == 200, response.json()
    assert response.json()["message"] == "Visit cancelled."
    with schema_context(business.schema):
        statuses = set(Appointment.objects.filter(visit_id=booked["visit"]).values_list("status", flat=True))
    assert statuses == {AppointmentStatus.CANCELLED}


def test_a_staff_member_books_and_cancels_only_in_their_own_column(shop):
    business, _cut, _colour, staff, _monday, form = shop
    user = make_user(business, "staff")
    with schema_context(business.schema):
        Resource.objects.filter(pk=staff[1].pk).update(user=user)
    client = log_in_as(business, user=user)
    # Staff 1's column for the cut: refused, nothing stored.
    assert client.post("/calendar/visits/book/", form).status_code == 403
    own = client.post("/calendar/visits/book/", {**form, "staff": staff[1].pk, "more_staff": [staff[1].pk]})
    assert own.status_code == 201, own.json()
    # A visit whose colour is with Staff 1 cannot be cancelled as a whole by Staff 2.
    mixed = log_in_as(business).post(
        "/calendar/visits/book/",
        {**form, "staff": staff[1].pk, "more_staff": [staff[0].pk], "time": "14:00"},
    )
    assert mixed.status_code == 201, mixed.json()
    refused = client.post(f"/calendar/appointments/{mixed.json()['id']}/visit-cancel/", {})
    assert refused.status_code == 403
    with schema_context(business.schema):
        assert not Appointment.objects.filter(status=AppointmentStatus.CANCELLED).exists()


def test_another_business_cannot_reach_the_visit(shop, business_b):
    business, *_rest, form = shop
    booked = log_in_as(business).post("/calendar/visits/book/", form).json()
    other = log_in_as(business_b)
    assert other.post(f"/calendar/appointments/{booked['id']}/visit-cancel/", {}).status_code == 404
    # Business A's ids mean nothing in B: the form refuses them as unknown.
    assert other.post("/calendar/visits/book/", form).status_code == 400
    with schema_context(business.schema):
        assert not Appointment.objects.filter(status=AppointmentStatus.CANCELLED).exists()
