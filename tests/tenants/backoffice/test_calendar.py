import json
import re
from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from termino.shared import timeutils
from termino.tenants.crm.models import Customer
from termino.tenants.scheduling import selectors
from termino.tenants.scheduling import services as scheduling
from termino.tenants.scheduling.models import Appointment, Closure, Resource
from tests.conftest import client_for
from tests.tenants.backoffice.helpers import log_in_as, make_user
from tests.tenants.scheduling.factories import BERLIN, next_monday, salon

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(business_a):
    """Business A with a service, two staff members, a room, a customer and one booking on Monday 10:00."""
    with schema_context(business_a.schema):
        service, staff, room = salon(name="Haarschnitt")
        customer = Customer.objects.create(first_name="Lena", last_name="Vogel", phone="+4917612345678")
        monday = next_monday()
        booked = scheduling.appointment_create(
            booking=scheduling.Booking(service=service, start=monday, staff=staff[0]), customer=customer
        )
    return {
        "service": service,
        "staff": staff,
        "room": room,
        "customer": customer,
        "monday": monday,
        "booked": booked,
    }


def day_url(day, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"/calendar/?date={day:%Y-%m-%d}" + (f"&{query}" if query else "")


def config_of(response) -> dict:
    page = response.content.decode()
    match = re.search(r'<script id="cal-config" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(match.group(1))


def feed(client, start, end, **params):
    query = {"start": f"{start:%Y-%m-%d}", "end": f"{end:%Y-%m-%d}", **params}
    return client.get("/calendar/events.json", query)


def appointments_in(response) -> list[dict]:
    return [e for e in response.json()["events"] if e.get("extendedProps", {}).get("kind") == "appointment"]


@pytest.mark.clock
def test_the_page_carries_the_columns_and_the_servers_now(business_a, shop):
    config = config_of(log_in_as(business_a).get(day_url(shop["monday"])))
    assert [r["id"] for r in config["resources"]] == [m.pk for m in shop["staff"]]
    assert config["date"] == f"{shop['monday']:%Y-%m-%d}" and config["view"] == "day"
    assert abs(datetime.fromisoformat(config["now"]) - timeutils.now()) < timedelta(seconds=5)
    # The business's offset from UTC now: 60 in winter, 120 in summer (the matrix pins both).
    assert config["offset"] == timeutils.now().astimezone(BERLIN).utcoffset() // timedelta(minutes=1)
    assert (config["slotMin"], config["slotMax"]) == ("09:00", "18:00")
    assert config["customer"] is None and config["editable"] is True


def test_room_columns_month_view_and_one_column(business_a, shop):
    client = log_in_as(business_a)
    rooms = config_of(client.get(day_url(shop["monday"], by="room", view="month")))
    assert [r["id"] for r in rooms["resources"]] == [shop["room"].pk]
    assert rooms["view"] == "month"
    one = config_of(client.get(day_url(shop["monday"], view="week", resource=shop["staff"][1].pk)))
    assert one["resource"] == shop["staff"][1].pk
    unknown = config_of(client.get(day_url(shop["monday"], view="week", resource=shop["room"].pk)))
    assert unknown["resource"] is None  # a room is no column of the staff view


@pytest.mark.clock
def test_bad_query_parameters_fall_back_to_today(business_a, shop):
    response = log_in_as(business_a).get("/calendar/?date=kaputt&view=year&by=x&resource=-1&customer=y")
    assert response.status_code == 200
    assert config_of(response)["date"] == f"{timeutils.today(BERLIN):%Y-%m-%d}"


def test_book_for_a_customer_preselects_them(business_a, shop):
    client = log_in_as(business_a)
    config = config_of(client.get(f"/calendar/?customer={shop['customer'].pk}"))
    assert config["customer"] == {"id": shop["customer"].pk, "name": "Lena Vogel"}
    detail = client.get(f"/customers/{shop['customer'].pk}/").content.decode()
    assert f"/calendar/?customer={shop['customer'].pk}" in detail
    with schema_context(business_a.schema):
        Customer.objects.filter(pk=shop["customer"].pk).update(processing_restricted=True)
    assert config_of(client.get(f"/calendar/?customer={shop['customer'].pk}"))["customer"] is None
    assert "/calendar/?customer=" not in client.get(f"/customers/{shop['customer'].pk}/").content.decode()


@pytest.mark.clock
def test_feed_has_the_appointments_of_the_days_in_wall_clock_time(business_a, shop):
    monday = shop["monday"]
    response = feed(log_in_as(business_a), monday, monday + timedelta(days=1))
    assert response.status_code == 200
    (event,) = appointments_in(response)
    assert event["id"] == str(shop["booked"].pk)
    assert event["resourceIds"] == [shop["staff"][0].pk]
    assert (event["start"], event["end"]) == (f"{monday:%Y-%m-%d}T10:00:00", f"{monday:%Y-%m-%d}T10:30:00")
    assert event["title"] == "Lena Vogel" and event["editable"] is True
    assert event["styles"] == ["--c: #3b82f6"]  # coloured by service
    props = event["extendedProps"]
    assert props["phone"] == "0176 12345678"  # national format for a business in Germany
    assert (props["from"], props["until"], props["minutes"]) == ("10:00", "10:30", 30)
    assert props["begun"] is False and props["status"] == "confirmed"
    assert props["customerUrl"] == f"/customers/{shop['customer'].pk}/"
    assert props["resources"] == "Staff 1"
    # Time outside working hours is shaded in every column (Monday opens 09:00–18:00).
    off = [e for e in response.json()["events"] if e["extendedProps"]["kind"] == "off"]
    assert {(e["resourceIds"][0], e["start"][-8:], e["end"][-8:]) for e in off} == {
        (m.pk, t0, t1)
        for m in shop["staff"]
        for t0, t1 in (("00:00:00", "09:00:00"), ("18:00:00", "00:00:00"))
    }


def test_feed_of_the_room_columns_and_of_one_staff_member(business_a, shop):
    client = log_in_as(business_a)
    monday = shop["monday"]
    with schema_context(business_a.schema):
        shop["service"].requires_room = True
        shop["service"].save()
        scheduling.appointment_create(
            booking=scheduling.Booking(
                service=shop["service"], start=monday.replace(hour=12), staff=shop["staff"][1]
            ),
            customer=shop["customer"],
        )
    rooms = appointments_in(feed(client, monday, monday + timedelta(days=1), by="room"))
    assert [(e["start"][-8:], e["resourceIds"]) for e in rooms] == [("12:00:00", [shop["room"].pk])]
    assert rooms[0]["extendedProps"]["resources"] == "Staff 2, Raum 1"
    second = feed(client, monday, monday + timedelta(days=1), resource=shop["staff"][1].pk)
    assert [e["start"][-8:] for e in appointments_in(second)] == ["12:00:00"]


def test_feed_across_the_nights_the_clocks_change(business_a, shop):
    client = log_in_as(business_a)
    with schema_context(business_a.schema):
        for start in (
            datetime(2026, 10, 24, 23, 30, tzinfo=BERLIN),  # the evening before: not on the 25th
            datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN),  # the first 02:30 (summer time)
            datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=BERLIN),  # the second 02:30 (winter time)
            datetime(2026, 10, 25, 23, 30, tzinfo=BERLIN),  # the day's last half hour (25 hours long)
            datetime(2027, 3, 28, 1, 30, tzinfo=BERLIN),  # spring: 02:00 does not exist that night
        ):
            scheduling.appointment_create(
                booking=scheduling.Booking(service=shop["service"], start=start, staff=shop["staff"][1]),
                customer=shop["customer"],
            )
    autumn = appointments_in(feed(client, date(2026, 10, 25), date(2026, 10, 26)))
    assert [(e["start"], e["end"], e["extendedProps"]["from"]) for e in autumn] == [
        ("2026-10-25T02:30:00", "2026-10-25T03:00:00", "02:30 (UTC+02:00)"),
        ("2026-10-25T02:30:00", "2026-10-25T03:00:00", "02:30 (UTC+01:00)"),
        ("2026-10-25T23:30:00", "2026-10-26T00:00:00", "23:30"),
    ]
    assert all(e["extendedProps"]["minutes"] == 30 for e in autumn)
    spring = appointments_in(feed(client, date(2027, 3, 28), date(2027, 3, 29)))
    # 01:30 plus 30 real minutes ends at 03:00 on the wall clock: the hour from 02:00 does not exist.
    assert [(e["start"], e["end"], e["extendedProps"]["minutes"]) for e in spring] == [
        ("2027-03-28T01:30:00", "2027-03-28T03:00:00", 30)
    ]


def test_feed_reads_the_appointments_in_one_query(business_a, shop):
    client = log_in_as(business_a)
    monday = shop["monday"]

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert feed(client, monday, monday + timedelta(days=7)).status_code == 200
        return len(captured)

    few = queries()
    with schema_context(business_a.schema):
        for day in range(1, 6):
            for hour in (11, 12, 13):
                scheduling.appointment_create(
                    booking=scheduling.Booking(
                        service=shop["service"],
                        start=(monday + timedelta(days=day)).replace(hour=hour),
                        staff=shop["staff"][day % 2],
                    ),
                    customer=Customer.objects.create(last_name=f"Kunde {day} {hour}", phone="+4917612345678"),
                )
    assert len(appointments_in(feed(client, monday, monday + timedelta(days=7)))) == 16
    assert queries() == few


def test_feed_refuses_odd_ranges(business_a, shop):
    client = log_in_as(business_a)
    monday = shop["monday"]
    assert feed(client, monday, monday).status_code == 400
    too_long = feed(client, monday, monday + timedelta(days=43))
    assert too_long.status_code == 400 and "42" in too_long.json()["detail"]
    assert client.get("/calendar/events.json?start=kaputt&end=2027-01-01").status_code == 400
    assert client.get("/calendar/events.json").status_code == 400


def test_staff_member_sees_only_their_own_column(business_a, shop):
    user = make_user(business_a, "staff")
    with schema_context(business_a.schema):
        Resource.objects.filter(pk=shop["staff"][1].pk).update(user=user)
    client = log_in_as(business_a, user=user)
    config = config_of(client.get(day_url(shop["monday"], by="room")))
    assert [r["id"] for r in config["resources"]] == [shop["staff"][1].pk] and config["by"] == "staff"
    monday = shop["monday"]
    for params in ({}, {"by": "room"}, {"resource": shop["staff"][0].pk}):
        events = feed(client, monday, monday + timedelta(days=1), **params).json()["events"]
        assert appointments_in_events(events) == []  # Lena is booked with the other staff member
        assert {pk for e in events for pk in e["resourceIds"]} <= {shop["staff"][1].pk}


def appointments_in_events(events):
    return [e for e in events if e["extendedProps"]["kind"] == "appointment"]


def test_staff_member_without_a_column_is_told_so(business_a, shop):
    page = log_in_as(business_a, "staff").get("/calendar/").content.decode()
    assert "You do not have a calendar column yet" in page and 'id="cal-config"' not in page


def book(client, shop, **overrides):
    data = {
        "service": shop["service"].pk,
        "date": f"{shop['monday']:%Y-%m-%d}",
        "time": "11:00",
        "staff": shop["staff"][0].pk,
        "customer": shop["customer"].pk,
    }
    data.update(overrides)
    return client.post("/calendar/book/", {k: v for k, v in data.items() if v is not None})


def test_booking_an_existing_customer(business_a, shop):
    response = book(log_in_as(business_a), shop)
    assert response.status_code == 201, response.json()
    with schema_context(business_a.schema):
        appointment = Appointment.objects.get(pk=response.json()["id"])
        assert appointment.customer == shop["customer"]
        assert appointment.start == datetime.combine(shop["monday"].date(), time(11), tzinfo=BERLIN)
        assert appointment.source == "backoffice"


def test_booking_a_taken_time_answers_409_with_the_reason(business_a, shop):
    response = book(log_in_as(business_a), shop, time="10:15")
    assert response.status_code == 409
    assert "10:00" in response.json()["detail"]
    with schema_context(business_a.schema):
        assert Appointment.objects.count() == 1


def test_booking_needs_a_service_and_a_customer(business_a, shop):
    client = log_in_as(business_a)
    assert book(client, shop, service=None).status_code == 400
    response = book(client, shop, customer=None)
    assert response.status_code == 400 and "last name" in response.json()["detail"]
    assert book(client, shop, date="2026-13-45").status_code == 400
    with schema_context(business_a.schema):
        assert Appointment.objects.count() == 1


def test_a_conflict_leaves_no_new_customer_behind(business_a, shop):
    response = book(
        log_in_as(business_a), shop, time="10:00", customer=None, last_name="Neu", first_name="Nina"
    )
    assert response.status_code == 409
    with schema_context(business_a.schema):
        assert not Customer.objects.filter(last_name="Neu").exists()


def test_booking_a_new_customer_from_the_calendar(business_a, shop):
    response = book(
        log_in_as(business_a), shop, customer=None, first_name="Nina", last_name="Neu", phone="0171 2345678"
    )
    assert response.status_code == 201, response.json()
    with schema_context(business_a.schema):
        customer = Appointment.objects.get(pk=response.json()["id"]).customer
        assert (customer.first_name, customer.last_name, customer.phone) == ("Nina", "Neu", "+491712345678")


def test_staff_member_books_only_in_their_own_column(business_a, shop):
    user = make_user(business_a, "staff")
    with schema_context(business_a.schema):
        Resource.objects.filter(pk=shop["staff"][1].pk).update(user=user)
    client = log_in_as(business_a, user=user)
    assert book(client, shop, staff=shop["staff"][0].pk).status_code == 403
    assert book(client, shop, staff=None).status_code == 201


def test_moving_an_appointment(business_a, shop):
    client = log_in_as(business_a)
    pk = shop["booked"].pk
    response = client.post(
        f"/calendar/appointments/{pk}/move/", {"date": f"{shop['monday']:%Y-%m-%d}", "time": "14:00"}
    )
    assert response.status_code == 200, response.json()
    with schema_context(business_a.schema):
        assert Appointment.objects.get(pk=pk).start == shop["monday"].replace(hour=14)


def test_moving_onto_another_appointment_answers_409(business_a, shop):
    client = log_in_as(business_a)
    book(client, shop, time="15:00")
    pk = shop["booked"].pk
    response = client.post(
        f"/calendar/appointments/{pk}/move/", {"date": f"{shop['monday']:%Y-%m-%d}", "time": "15:15"}
    )
    assert response.status_code == 409 and "15:00" in response.json()["detail"]
    with schema_context(business_a.schema):
        assert Appointment.objects.get(pk=pk).start == shop["monday"]


def test_status_changes_and_their_rules(business_a, shop):
    client = log_in_as(business_a)
    url = f"/calendar/appointments/{shop['booked'].pk}/status/"
    # Before it begins, an appointment can be neither a no-show nor completed.
    early = client.post(url, {"action": "no_show"})
    assert early.status_code == 400 and "only once it has begun" in early.json()["detail"]
    assert client.post(url, {"action": "complete"}).status_code == 400
    with time_machine.travel(shop["monday"] + timedelta(minutes=5), tick=True):
        later = log_in_as(business_a)  # days later: a new session
        assert later.post(url, {"action": "no_show"}).json()["status"] == "no_show"
        assert later.post(url, {"action": "complete"}).json()["status"] == "completed"
    assert (
        client.post(url, {"action": "cancel", "reason": "krank"}).status_code == 400
    )  # completed → cancelled
    assert client.post(url, {"action": "confirm"}).json()["status"] == "confirmed"
    assert client.post(url, {"action": "cancel", "reason": "krank"}).json()["status"] == "cancelled"
    assert client.post(url, {"action": "fly"}).status_code == 400
    with schema_context(business_a.schema):
        assert Appointment.objects.get(pk=shop["booked"].pk).cancel_reason == "krank"


def test_staff_member_cannot_touch_appointments_of_other_columns(business_a, shop):
    user = make_user(business_a, "staff")
    with schema_context(business_a.schema):
        Resource.objects.filter(pk=shop["staff"][1].pk).update(user=user)
    client = log_in_as(business_a, user=user)
    pk = shop["booked"].pk
    assert client.post(f"/calendar/appointments/{pk}/status/", {"action": "cancel"}).status_code == 404
    assert (
        client.post(f"/calendar/appointments/{pk}/move/", {"date": "2030-01-07", "time": "10:00"}).status_code
        == 404
    )


def test_dragging_to_another_staff_member(business_a, shop):
    pk = shop["booked"].pk
    response = log_in_as(business_a).post(
        f"/calendar/appointments/{pk}/move/",
        {"date": f"{shop['monday']:%Y-%m-%d}", "time": "12:15", "staff": shop["staff"][1].pk},
    )
    assert response.status_code == 200, response.json()
    with schema_context(business_a.schema):
        moved = Appointment.objects.get(pk=pk)
        assert moved.start == shop["monday"].replace(hour=12, minute=15)
        assert list(moved.allocations.values_list("resource_id", flat=True)) == [shop["staff"][1].pk]


def resize(client, pk, minutes):
    return client.post(f"/calendar/appointments/{pk}/resize/", {"minutes": minutes})


def test_resizing_an_appointment(business_a, shop):
    client = log_in_as(business_a)
    pk = shop["booked"].pk
    response = resize(client, pk, 75)
    assert response.status_code == 200, response.json()
    assert response.json()["message"] == "Appointment length changed."
    with schema_context(business_a.schema):
        assert Appointment.objects.get(pk=pk).end == shop["monday"].replace(hour=11, minute=15)
    for bad in (0, 4, 1441, "lang", ""):
        assert resize(client, pk, bad).status_code == 400


def test_resizing_into_the_next_appointment_answers_409_naming_it(business_a, shop):
    client = log_in_as(business_a)
    book(client, shop, time="11:00", customer=None, last_name="Neu")
    response = resize(client, shop["booked"].pk, 90)
    assert response.status_code == 409
    assert response.json()["detail"] == "Staff 1 is already booked from 11:00 to 11:30 (Haarschnitt)."
    with schema_context(business_a.schema):
        assert Appointment.objects.get(pk=shop["booked"].pk).end == shop["monday"].replace(minute=30)


def block(client, shop, **overrides):
    data = {
        "date": f"{shop['monday']:%Y-%m-%d}",
        "time": "14:00",
        "until": "15:30",
        "resource": shop["staff"][0].pk,
        "reason": "Fortbildung",
    }
    data.update(overrides)
    return client.post("/calendar/block/", {k: v for k, v in data.items() if v is not None})


def test_blocking_free_time_closes_it_for_online_booking(business_a, shop):
    client = log_in_as(business_a)
    response = block(client, shop)
    assert response.status_code == 201, response.json()
    with schema_context(business_a.schema):
        closure = Closure.objects.get(pk=response.json()["id"])
        assert (closure.resource_id, closure.reason) == (shop["staff"][0].pk, "Fortbildung")
        assert closure.start == shop["monday"].replace(hour=14)
        assert closure.end == shop["monday"].replace(hour=15, minute=30)
    with schema_context(business_a.schema):
        starts = {
            f"{slot.start.astimezone(BERLIN):%H:%M}"
            for slot in selectors.free_slots(
                service=shop["service"],
                start_date=shop["monday"].date(),
                end_date=shop["monday"].date(),
                time_zone="Europe/Berlin",
                resource_id=shop["staff"][0].pk,
            )
        }
    assert "13:30" in starts and "15:30" in starts
    assert not starts & {"14:00", "14:30", "15:00"}
    events = feed(client, shop["monday"], shop["monday"] + timedelta(days=1)).json()["events"]
    (shown,) = [e for e in events if e["extendedProps"]["kind"] == "block"]
    assert (shown["title"], shown["start"][-8:], shown["end"][-8:]) == ("Fortbildung", "14:00:00", "15:30:00")
    assert shown["extendedProps"]["closure"] == closure.pk


def test_blocking_until_midnight_and_refusals(business_a, shop):
    client = log_in_as(business_a)
    response = block(client, shop, time="20:00", until="00:00", reason="")
    assert response.status_code == 201
    with schema_context(business_a.schema):
        assert Closure.objects.get().end == (shop["monday"] + timedelta(days=1)).replace(hour=0)
    assert block(client, shop, until="13:00").status_code == 400  # ends before it starts
    assert block(client, shop, resource=None).status_code == 400
    assert block(client, shop, date="9999-01-01").status_code == 400
    taken = block(client, shop, time="09:30", until="10:15")
    assert taken.status_code == 409
    assert taken.json()["detail"] == "Staff 1 is already booked from 10:00 to 10:30 (Haarschnitt)."
    with schema_context(business_a.schema):
        assert Closure.objects.count() == 1


def test_freeing_blocked_time_but_not_the_business_closures(business_a, shop):
    client = log_in_as(business_a)
    pk = block(client, shop).json()["id"]
    with schema_context(business_a.schema):
        holiday = Closure.objects.create(
            start=shop["monday"].replace(hour=0), end=shop["monday"].replace(hour=1), reason="Betriebsferien"
        )
    assert client.post(f"/calendar/blocks/{holiday.pk}/delete/").status_code == 404
    assert client.post(f"/calendar/blocks/{pk}/delete/").status_code == 200
    with schema_context(business_a.schema):
        assert list(Closure.objects.values_list("pk", flat=True)) == [holiday.pk]


def test_staff_member_blocks_and_resizes_only_in_their_own_column(business_a, shop):
    user = make_user(business_a, "staff")
    with schema_context(business_a.schema):
        Resource.objects.filter(pk=shop["staff"][1].pk).update(user=user)
        others = Closure.objects.create(
            resource=shop["staff"][0],
            start=shop["monday"].replace(hour=16),
            end=shop["monday"].replace(hour=17),
        )
    client = log_in_as(business_a, user=user)
    refused = block(client, shop)
    assert refused.status_code == 403 and "own calendar" in refused.json()["detail"]
    assert block(client, shop, resource=shop["staff"][1].pk).status_code == 201
    assert resize(client, shop["booked"].pk, 60).status_code == 404
    assert client.post(f"/calendar/blocks/{others.pk}/delete/").status_code == 404
    with schema_context(business_a.schema):
        assert Closure.objects.filter(resource=shop["staff"][1]).count() == 1
        assert Closure.objects.filter(pk=others.pk).exists()


def test_changes_need_the_csrf_token(business_a, shop):
    client = Client(HTTP_HOST=business_a.host, enforce_csrf_checks=True)
    client.cookies = log_in_as(business_a).cookies
    assert resize(client, shop["booked"].pk, 60).status_code == 403
    assert block(client, shop).status_code == 403
    with schema_context(business_a.schema):
        assert Appointment.objects.get(pk=shop["booked"].pk).end == shop["monday"].replace(minute=30)
        assert not Closure.objects.exists()


@pytest.mark.clock
def test_next_free_slots_across_all_staff(business_a, shop):
    response = log_in_as(business_a).get(f"/calendar/free.json?service={shop['service'].pk}")
    slots = response.json()["slots"]
    assert len(slots) == 5
    starts = [s["start"] for s in slots]
    assert starts == sorted(starts)
    assert all(s["staff"] for s in slots)
    assert log_in_as(business_a).get("/calendar/free.json?service=x").status_code == 400


def test_another_business_cannot_see_or_change_the_calendar(business_a, business_b, shop):
    client_b = log_in_as(business_b)
    monday = shop["monday"]
    assert "Vogel" not in client_b.get(day_url(monday)).content.decode()
    assert "Vogel" not in feed(client_b, monday, monday + timedelta(days=1)).content.decode()
    assert client_b.get(f"/calendar/?customer={shop['customer'].pk}").content.decode().count("Vogel") == 0
    pk = shop["booked"].pk
    closure = block(log_in_as(business_a), shop).json()["id"]
    assert client_b.post(f"/calendar/appointments/{pk}/status/", {"action": "cancel"}).status_code == 404
    assert (
        client_b.post(
            f"/calendar/appointments/{pk}/move/", {"date": "2030-01-07", "time": "12:00"}
        ).status_code
        == 404
    )
    assert resize(client_b, pk, 60).status_code == 404
    assert client_b.post(f"/calendar/blocks/{closure}/delete/").status_code == 404
    stolen = client_for(business_a.host)
    stolen.cookies = client_b.cookies
    assert stolen.get("/calendar/").status_code == 302
    assert stolen.post(f"/calendar/appointments/{pk}/status/", {"action": "cancel"}).status_code == 302
    assert feed(stolen, monday, monday + timedelta(days=1)).status_code == 302
    assert resize(stolen, pk, 60).status_code == 302
    assert stolen.post(f"/calendar/blocks/{closure}/delete/").status_code == 302
    with schema_context(business_a.schema):
        appointment = Appointment.objects.get(pk=pk)
        assert (appointment.status, appointment.end) == ("confirmed", monday.replace(minute=30))
        assert Closure.objects.filter(pk=closure).exists()


def test_anonymous_visitors_are_sent_to_the_login(business_a, shop):
    client = client_for(business_a.host)
    assert client.get("/calendar/").status_code == 302
    assert book(client, shop).status_code == 302
    assert client.get(f"/calendar/free.json?service={shop['service'].pk}").status_code == 302
    assert feed(client, shop["monday"], shop["monday"] + timedelta(days=1)).status_code == 302
    assert resize(client, shop["booked"].pk, 60).status_code == 302
    assert block(client, shop).status_code == 302


def test_a_customer_whose_processing_is_restricted_cannot_be_booked(business_a, shop):
    with schema_context(business_a.schema):
        Customer.objects.filter(pk=shop["customer"].pk).update(processing_restricted=True)
    response = book(log_in_as(business_a), shop)
    assert response.status_code == 400
    with schema_context(business_a.schema):
        assert Appointment.objects.count() == 1


@pytest.mark.clock
def test_far_off_dates_are_refused_not_a_server_error(business_a, shop):
    client = log_in_as(business_a)
    assert client.get("/calendar/?date=0001-01-01").status_code == 200  # falls back to today
    assert client.get("/calendar/?date=9999-12-31").status_code == 200
    pk = shop["booked"].pk
    response = client.post(f"/calendar/appointments/{pk}/move/", {"date": "9999-12-31", "time": "10:00"})
    assert response.status_code == 400 and "2000" in response.json()["detail"]
    assert book(client, shop, date="0001-01-01").status_code == 400
