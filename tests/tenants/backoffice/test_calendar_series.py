"""The calendar's series views (what calendar_series.js posts): preview, book, move and cancel this and
following; refusals as JSON with a sentence, a staff member only in their own column."""

from datetime import time, timedelta

import pytest
from django_tenants.utils import schema_context

from termino.shared import timeutils
from termino.tenants.crm.models import Customer
from termino.tenants.scheduling import services as scheduling
from termino.tenants.scheduling.models import Appointment, Resource, Series
from tests.tenants.backoffice.helpers import log_in_as, make_user
from tests.tenants.scheduling.factories import BERLIN, next_monday, salon

pytestmark = [pytest.mark.django_db, pytest.mark.clock]


@pytest.fixture
def shop(business_a):
    with schema_context(business_a.schema):
        service, staff, _room = salon(name="Krankengymnastik")
        customer = Customer.objects.create(first_name="Lena", last_name="Vogel")
    monday = next_monday()
    form = {
        "service": service.pk,
        "staff": staff[0].pk,
        "date": monday.date().isoformat(),
        "time": "10:00",
        "customer": customer.pk,
        "frequency": "weekly",
        "interval": 1,
        "weekdays": ["0"],
        "ends": "count",
        "count": 4,
    }
    return business_a, service, staff, customer, monday, form


def test_preview_book_move_and_cancel_following(shop):
    business, service, staff, _customer, monday, form = shop
    with schema_context(business.schema):
        scheduling.appointment_create(
            booking=scheduling.Booking(service=service, start=monday + timedelta(weeks=1), staff=staff[0])
        )
    client = log_in_as(business)
    preview = client.post("/calendar/series/preview/", form)
    assert preview.status_code == 200
    dates = preview.json()["occurrences"]
    assert [d["free"] for d in dates] == [True, False, True, True]
    assert dates[1]["alternative"]["staff"] == "Staff 1"
    with schema_context(business.schema):
        assert not Series.objects.exists()

    chosen = [d["start"] if d["free"] else d["alternative"]["start"] for d in dates]
    booked = client.post("/calendar/series/book/", {**form, "occurrence": chosen})
    assert booked.status_code == 201, booked.json()
    assert booked.json()["message"] == "4 appointments booked."
    with schema_context(business.schema):
        occurrences = list(Appointment.objects.filter(series_id=booked.json()["id"]).order_by("start"))
    third = timeutils.local_date(occurrences[2].start, BERLIN)
    moved = client.post(
        f"/calendar/appointments/{occurrences[2].pk}/series-move/",
        {"date": third.isoformat(), "time": "15:00", "staff": staff[0].pk},
    )
    assert moved.status_code == 200, moved.json()
    assert moved.json()["message"] == "2 appointments moved."
    with schema_context(business.schema):
        walls = [
            timeutils.localtime(a.start, BERLIN).time()
            for a in Appointment.objects.filter(series_id=booked.json()["id"]).order_by("start")
        ]
    assert walls[2:] == [time(15), time(15)]
    cancelled = client.post(f"/calendar/appointments/{occurrences[1].pk}/series-cancel/", {"reason": "Kur"})
    assert cancelled.json()["message"] == "3 appointments cancelled."


def test_booking_the_rule_with_a_taken_date_books_nothing_and_says_which(shop):
    business, service, staff, _customer, monday, form = shop
    with schema_context(business.schema):
        scheduling.appointment_create(
            booking=scheduling.Booking(service=service, start=monday + timedelta(weeks=2), staff=staff[0])
        )
    response = log_in_as(business).post("/calendar/series/book/", form)
    assert response.status_code == 409
    assert response.json()["detail"].startswith("Nothing was booked: 1 date is taken.")
    with schema_context(business.schema):
        assert Appointment.objects.count() == 1
        assert not Series.objects.exists()


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"count": 53}, "at most 52"),
        ({"ends": "until", "until": ""}, "Until which date?"),
        ({"frequency": "daily", "ends": "until", "count": "", "until": "+60 days"}, "more than 52"),
        ({"weekdays": ["9"]}, "Select a valid choice"),
        ({"occurrence": ["tomorrow"]}, "Check the dates again."),
    ],
)
def test_bad_input_is_a_400_with_a_sentence(shop, change, words):
    business, *_rest, monday, form = shop
    if change.get("until") == "+60 days":
        change = {**change, "until": (monday.date() + timedelta(days=60)).isoformat()}
    url = "/calendar/series/book/" if "occurrence" in change else "/calendar/series/preview/"
    response = log_in_as(business).post(url, {**form, **change})
    assert response.status_code == 400
    assert words in response.json()["detail"]


def test_a_staff_member_only_in_their_own_column(shop):
    business, service, staff, _customer, _monday, form = shop
    user = make_user(business, "staff")
    with schema_context(business.schema):
        Resource.objects.filter(pk=staff[1].pk).update(user=user)
    client = log_in_as(business, user=user)
    assert client.post("/calendar/series/preview/", form).status_code == 403  # Staff 1's column
    own = client.post("/calendar/series/book/", {**form, "staff": ""})
    assert own.status_code == 201, own.json()
    with schema_context(business.schema):
        made = Series.objects.get()
        assert {a.allocations.get().resource_id for a in made.appointments.all()} == {staff[1].pk}
        others = Appointment.objects.create(
            service=service,
            start=timeutils.now() + timedelta(days=9),
            end=timeutils.now() + timedelta(days=9, hours=1),
        )
    assert client.post(f"/calendar/appointments/{others.pk}/series-cancel/", {}).status_code == 404
