from datetime import datetime, time, timedelta

import pytest
import time_machine
from django_tenants.utils import schema_context

from termino.tenants.crm.models import Customer
from termino.tenants.scheduling import services as scheduling
from termino.tenants.scheduling.models import Appointment, Resource
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


@pytest.mark.clock
def test_day_view_has_a_column_per_staff_member_with_the_appointments(business_a, shop):
    page = log_in_as(business_a).get(day_url(shop["monday"])).content.decode()
    for member in shop["staff"]:
        assert f'data-resource="{member.pk}"' in page
    assert f'data-resource="{shop["room"].pk}"' not in page
    assert "Vogel" in page and 'data-start="10:00"' in page and 'data-end="10:30"' in page
    assert "--c: #3b82f6" in page  # coloured by service


def test_room_view_and_week_view(business_a, shop):
    client = log_in_as(business_a)
    rooms = client.get(day_url(shop["monday"], by="room")).content.decode()
    assert f'data-resource="{shop["room"].pk}"' in rooms
    assert f'data-resource="{shop["staff"][0].pk}"' not in rooms
    week = client.get(day_url(shop["monday"], view="week", resource=shop["staff"][0].pk)).content.decode()
    assert week.count('class="cal-col"') == 7
    assert week.count(f'data-resource="{shop["staff"][0].pk}"') == 7
    assert "Vogel" in week


@pytest.mark.clock
def test_bad_query_parameters_fall_back_to_today(business_a, shop):
    response = log_in_as(business_a).get("/calendar/?date=kaputt&view=year&by=x&resource=-1")
    assert response.status_code == 200


def test_staff_member_sees_only_their_own_column(business_a, shop):
    user = make_user(business_a, "staff")
    with schema_context(business_a.schema):
        Resource.objects.filter(pk=shop["staff"][1].pk).update(user=user)
    page = log_in_as(business_a, user=user).get(day_url(shop["monday"])).content.decode()
    assert f'data-resource="{shop["staff"][1].pk}"' in page
    assert f'data-resource="{shop["staff"][0].pk}"' not in page
    assert "Vogel" not in page  # booked with the other staff member


def test_staff_member_without_a_column_is_told_so(business_a, shop):
    page = log_in_as(business_a, "staff").get("/calendar/").content.decode()
    assert "You do not have a calendar column yet" in page and "cal-col" not in page


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
    assert "Vogel" not in client_b.get(day_url(shop["monday"])).content.decode()
    pk = shop["booked"].pk
    assert client_b.post(f"/calendar/appointments/{pk}/status/", {"action": "cancel"}).status_code == 404
    stolen = client_for(business_a.host)
    stolen.cookies = client_b.cookies
    assert stolen.get("/calendar/").status_code == 302
    assert stolen.post(f"/calendar/appointments/{pk}/status/", {"action": "cancel"}).status_code == 302
    with schema_context(business_a.schema):
        assert Appointment.objects.get(pk=pk).status == "confirmed"


def test_anonymous_visitors_are_sent_to_the_login(business_a, shop):
    client = client_for(business_a.host)
    assert client.get("/calendar/").status_code == 302
    assert book(client, shop).status_code == 302
    assert client.get(f"/calendar/free.json?service={shop['service'].pk}").status_code == 302


def test_a_day_across_the_dst_change_shows_local_times(business_a, shop):
    with schema_context(business_a.schema):
        start = datetime(2026, 10, 25, 9, 0, tzinfo=BERLIN)  # the autumn change was at 03:00 that night
        scheduling.appointment_create(
            booking=scheduling.Booking(service=shop["service"], start=start, staff=shop["staff"][0]),
            customer=shop["customer"],
        )
    page = log_in_as(business_a).get("/calendar/?date=2026-10-25").content.decode()
    assert 'data-start="09:00"' in page and 'data-end="09:30"' in page


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
