"""SMS go only to mobile numbers of the countries a business allows: premium-rate, shared-cost, personal,
satellite and other special numbers with SMS consent are refused with a 400 on the phone field before
anything is stored (the numbers SMS pumping aims at), and so are numbers of other countries."""

import pytest
from django_tenants.utils import schema_context

from termino.tenants.business.models import BusinessSettings
from termino.tenants.crm.models import Consent, Customer
from termino.tenants.notifications.models import OutboxMessage
from termino.tenants.scheduling.models import Appointment
from tests.conftest import client_for
from tests.tenants.scheduling.factories import next_monday, salon

from .public_helpers import booking_body, public_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(business_a):
    with schema_context(business_a.schema):
        service, _staff, _room = salon()
    return business_a, service


def book(business, service, phone: str, *, sms_consent: bool = True, language: str = "en"):
    body = booking_body(service, next_monday(), phone=phone, sms_consent=sms_consent)
    return client_for(business.host, language).post(
        "/api/public/v1/bookings/", body, content_type="application/json"
    )


def stored(business) -> tuple[int, int, int, int]:
    with schema_context(business.schema):
        return (
            Customer.objects.count(),
            Appointment.objects.count(),
            Consent.objects.count(),
            OutboxMessage.objects.count(),
        )


NOT_MOBILE = "can only be sent to mobile numbers"
OTHER_COUNTRY = "cannot be sent to numbers of this country"


@pytest.mark.parametrize(
    ("phone", "why"),
    [
        ("+49 900 1234567", NOT_MOBILE),  # German premium rate
        ("0900 1234567", NOT_MOBILE),  # the same, written nationally
        ("+49 700 12345678", NOT_MOBILE),  # German personal number
        ("+49 180 12345", NOT_MOBILE),  # German shared cost
        ("+49 164 12345", NOT_MOBILE),  # German pager
        ("+49 30 123456", NOT_MOBILE),  # a landline
        ("+44 909 8790879", NOT_MOBILE),  # UK premium rate
        ("+371 90012345", NOT_MOBILE),  # Latvian premium rate
        ("+882 342 1234", OTHER_COUNTRY),  # international networks
        ("+881 612345678", OTHER_COUNTRY),  # Iridium satellite phones
        ("+1 201 555 0123", OTHER_COUNTRY),  # the USA: not among the default countries
    ],
)
def test_special_numbers_with_sms_consent_are_refused_before_anything_is_stored(shop, phone, why):
    business, service = shop
    response = book(business, service, phone)
    assert response.status_code == 400
    assert why in response.json()["phone"][0]
    assert stored(business) == (0, 0, 0, 0)
    # Nothing was sent, so nothing counted against the number or the address.
    assert book(business, service, "0170 1234567").status_code == 201


@pytest.mark.parametrize("phone", ["0170 1234567", "+43 664 123456", "+41 78 123 45 67", "+371 21234567"])
def test_mobile_numbers_of_allowed_countries_get_sms(shop, phone):
    business, service = shop
    assert book(business, service, phone).status_code == 201
    with schema_context(business.schema):
        assert OutboxMessage.objects.filter(channel="sms", kind="confirmation").count() == 1


def test_a_special_number_without_sms_consent_books_without_sms(shop):
    business, service = shop
    assert book(business, service, "+49 900 1234567", sms_consent=False).status_code == 201
    with schema_context(business.schema):
        assert not OutboxMessage.objects.filter(channel="sms").exists()
        assert Customer.objects.get().phone == "+499001234567"


def test_the_business_chooses_the_countries(shop):
    business, service = shop
    with schema_context(business.schema):
        BusinessSettings.objects.update_or_create(id=1, defaults={"sms_countries": "DE CH"})
    refused = book(business, service, "+43 664 123456")
    assert refused.status_code == 400 and "from DE, CH," in refused.json()["phone"][0]
    assert book(business, service, "+41 78 123 45 67").status_code == 201


def test_the_refusal_is_in_the_customers_language(shop):
    business, service = shop
    response = book(business, service, "+49 900 1234567", language="de")
    assert response.status_code == 400
    assert response.json()["phone"] == [
        "SMS können nur an Handynummern gesendet werden. Bitte geben Sie eine Handynummer an oder verzichten "
        "Sie auf SMS-Erinnerungen."
    ]


def test_an_sms_refused_at_the_booking_page_is_no_throttle_hit(shop, settings):
    """A refused number is answered 400 and counts nothing: the 429 limits are for what was sent."""
    business, service = shop
    settings.PUBLIC_RATE_LIMITS = {**settings.PUBLIC_RATE_LIMITS, "public_sms_ip": "2/hour"}
    for _ in range(5):
        assert book(business, service, "+49 900 1234567").status_code == 400
    assert public_post(business.host, "bookings/", booking_body(service, next_monday())).status_code == 201
