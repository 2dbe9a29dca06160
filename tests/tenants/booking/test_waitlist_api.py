"""The public API of the waitlist: joining with contact and consent like a booking, bad input as a 400 with
words and nothing stored, an offer's link (its token is the only credential), leaving."""

import pytest
from django_tenants.utils import schema_context

from termino.tenants.crm.models import Consent, Customer
from termino.tenants.scheduling import lifecycle
from termino.tenants.waitlist import services as waitlist
from termino.tenants.waitlist.models import Entry, EntryStatus, Offer
from tests.conftest import client_for
from tests.tenants.waitlist.helpers import STAFF, link_token, tight_day

from .public_helpers import aged_form_token, public_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def day(business_a):
    with schema_context(business_a.schema):
        return tight_day()


def join_body(wanted, **overrides) -> dict:
    body = {
        "service": wanted.pk,
        "first_name": "Lena",
        "last_name": "Fischer",
        "email": "Lena.Fischer@Example.com",
        "phone": "0170 1234567",
        "privacy_consent": True,
        "sms_consent": True,
        "weekdays": [0, 2],
        "day_parts": ["morning"],
        "form_token": aged_form_token(),
        "website": "",
    }
    body.update(overrides)
    return body


def test_joining_records_the_customer_their_consents_and_the_wish(business_a, day):
    service, _staff, start, _booked = day
    response = public_post(business_a.host, "waitlist/", join_body(service, date_from=str(start.date())))
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "waiting" and response.json()["leave_token"]
    with schema_context(business_a.schema):
        entry = Entry.objects.get()
        assert (entry.weekdays, entry.day_parts, entry.date_from) == ([0, 2], ["morning"], start.date())
        customer = Customer.objects.get(email="lena.fischer@example.com")
        assert entry.customer == customer and customer.phone == "+491701234567"
        assert set(Consent.objects.filter(customer=customer).values_list("kind", "granted")) == {
            ("privacy", True),
            ("sms_reminders", True),
        }
    again = public_post(business_a.host, "waitlist/", join_body(service, weekdays=[4]))
    assert again.status_code == 201
    with schema_context(business_a.schema):
        assert Entry.objects.get().weekdays == [4]  # the same place, a new wish


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"privacy_consent": False}, None),
        ({"email": "", "phone": ""}, "email"),
        ({"weekdays": [7]}, "weekdays"),
        ({"weekdays": "Monday"}, "weekdays"),
        ({"day_parts": ["night"]}, "day_parts"),
        ({"date_from": "2027-02-10", "date_to": "2027-02-01"}, "date_to"),
        ({"date_to": "1999-12-31"}, "date_to"),
        ({"form_token": "forged"}, "form_token"),
        ({"website": "http://spam.example"}, "non_field_errors"),
        ({"service": 999999}, None),
        ({"resource": 999999}, None),
        ({"sms_consent": True, "phone": ""}, "phone"),
    ],
)
def test_bad_input_is_refused_with_words_and_nothing_stored(business_a, day, overrides, field):
    service, _staff, _start, _booked = day
    response = public_post(business_a.host, "waitlist/", join_body(service, **overrides))
    assert response.status_code == 400, response.content
    data = response.json()
    assert data[field] if field else data["detail"], data
    with schema_context(business_a.schema):
        assert not Entry.objects.exists() and not Customer.objects.filter(last_name="Fischer").exists()


def test_garbage_is_a_4xx(business_a):
    client = client_for(business_a.host, "en")
    assert client.post("/api/public/v1/waitlist/", "[1,2", content_type="application/json").status_code == 400
    assert client.get("/api/public/v1/waitlist/offers/nonsense/").status_code == 404
    assert client.post("/api/public/v1/waitlist/offers/nonsense/accept/").status_code == 404
    assert client.delete("/api/public/v1/waitlist/nonsense/").status_code == 404
    assert client.get("/book/waitlist/offer/nonsense/").status_code == 404


def test_an_offer_link_shows_books_and_then_says_so(business_a, day):
    service, _staff, start, booked = day
    monday = str(start.date())
    body = join_body(service, sms_consent=False, phone="", date_from=monday, date_to=monday)
    joined = public_post(business_a.host, "waitlist/", body)
    assert joined.status_code == 201
    with schema_context(business_a.schema):
        lifecycle.appointment_cancel(actor=STAFF, appointment=booked)
        (offer,) = waitlist.offers_match()
        token = link_token(offer)
    page = client_for(business_a.host, "en").get(f"/book/waitlist/offer/{token}/")
    assert page.status_code == 200 and "Book this time" in page.content.decode()
    shown = client_for(business_a.host, "en").get(f"/api/public/v1/waitlist/offers/{token}/").json()
    assert shown["status"] == "open" and shown["service"] == service.name and shown["first_name"] == "Lena"
    booked_now = public_post(business_a.host, f"waitlist/offers/{token}/accept/")
    assert booked_now.status_code == 201 and booked_now.json()["start"] == start.isoformat()
    assert booked_now.json()["manage_url"].endswith(f"/book/manage/{booked_now.json()['manage_token']}/")
    declined = public_post(business_a.host, f"waitlist/offers/{token}/decline/")
    assert declined.status_code == 409  # booked already
    page = client_for(business_a.host, "en").get(f"/book/waitlist/offer/{token}/")
    assert "You have booked this time." in page.content.decode()


def test_leaving_through_the_link(business_a, day):
    service, _staff, _start, _booked = day
    token = public_post(business_a.host, "waitlist/", join_body(service)).json()["leave_token"]
    client = client_for(business_a.host, "en")
    assert client.delete(f"/api/public/v1/waitlist/{token}/").status_code == 204
    assert client.delete(f"/api/public/v1/waitlist/{token}/").status_code == 204  # again: the same
    with schema_context(business_a.schema):
        assert Entry.objects.get().status == EntryStatus.LEFT and not Offer.objects.exists()


def test_a_link_of_one_business_is_void_at_another(business_a, business_b, day):
    service, _staff, start, booked = day
    monday = str(start.date())
    body = join_body(service, phone="", sms_consent=False, date_from=monday, date_to=monday)
    token = public_post(business_a.host, "waitlist/", body).json()["leave_token"]
    with schema_context(business_a.schema):
        lifecycle.appointment_cancel(actor=STAFF, appointment=booked)
        (offer,) = waitlist.offers_match()
        offer_token = link_token(offer)
    other = client_for(business_b.host, "en")
    assert other.get(f"/api/public/v1/waitlist/offers/{offer_token}/").status_code == 404
    assert other.post(f"/api/public/v1/waitlist/offers/{offer_token}/accept/").status_code == 404
    assert other.get(f"/book/waitlist/offer/{offer_token}/").status_code == 404
    assert other.delete(f"/api/public/v1/waitlist/{token}/").status_code == 404
    with schema_context(business_a.schema):
        assert Offer.objects.get().status == "open" and Entry.objects.get().status == "waiting"
