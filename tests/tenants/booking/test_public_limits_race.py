"""Every public limit under 50 real concurrent requests (threads with their own database connections,
committed data): exactly the limit gets through, never more. Two committed businesses serve the whole
module (a schema takes seconds to make); each test starts with them empty of bookings and customers.

Before the limits were atomic, 24–39 of 50 concurrent requests passed a limit of 20 per minute, 13–18 SMS
went to one number against a limit of 5 per hour, and one customer got past 3 open bookings.
"""

from datetime import datetime, time, timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django_tenants.utils import schema_context

from termino.platform.tenancy import services as tenancy
from termino.platform.tenancy.models import Tenant
from termino.shared import timeutils
from termino.tenants.booking.models import IdempotentRequest
from termino.tenants.business.models import BusinessSettings
from termino.tenants.crm.models import Customer
from termino.tenants.notifications.models import OutboxMessage
from termino.tenants.scheduling.models import Appointment
from tests.conftest import client_for, provision, unique_slug
from tests.tenants.scheduling.factories import BERLIN, next_monday, salon

from .public_helpers import aged_form_token, booking_body, public_post, race

CONTENDERS = 50


def rates(**changes):
    return override_settings(PUBLIC_RATE_LIMITS={**settings.PUBLIC_RATE_LIMITS, **changes})


def slot(n: int) -> datetime:
    """The n-th of 64 distinct half-hour slots, 09:00–17:00 on four days of next week."""
    day = next_monday().date() + timedelta(days=n // 16)
    return timeutils.local_at(day, time(9 + (n % 16) // 2, 30 * (n % 2)), BERLIN)


@pytest.fixture(scope="module")
def businesses(django_db_setup, django_db_blocker):
    """Two committed businesses, each with a bookable service and one staff member (a hold blocks)."""
    with django_db_blocker.unblock():
        made = []
        for _ in range(2):
            business = provision(unique_slug("t-limits"))
            with schema_context(business.schema):
                service, _staff, _room = salon(staff_count=1)
            made.append((business, service))
        connection.set_schema_to_public()
    yield made
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        for business, _service in made:
            tenancy.tenant_delete(tenant=Tenant.objects.get(pk=business.tenant.pk))


def empty(business) -> None:
    with schema_context(business.schema):
        OutboxMessage.objects.all().delete()
        Appointment.objects.all().delete()  # holds and their owners, allocations
        Customer.objects.all().delete()  # consents
        IdempotentRequest.objects.all().delete()
        BusinessSettings.objects.update_or_create(id=1, defaults={"max_open_bookings": 100})
    connection.set_schema_to_public()


@pytest.fixture
def shops(businesses, django_db_blocker):
    with django_db_blocker.unblock():
        for business, _service in businesses:
            empty(business)
        yield businesses


@pytest.fixture
def shop(shops):
    return shops[0]


def book_all(business, service, *, phone=lambda n: "", email=lambda n: f"kunde{n}@example.com", ip=None):
    """50 bookings at once, the n-th for slot n; returns the status codes."""

    def prepare(n: int):
        body = booking_body(service, slot(n), phone=phone(n), email=email(n), sms_consent=bool(phone(n)))
        return body, ip or f"198.51.{n // 200}.{n % 200 + 1}"

    def attempt(prepared):
        body, address = prepared
        return public_post(business.host, "bookings/", body, REMOTE_ADDR=address).status_code

    return race(CONTENDERS, prepare, attempt)


def sms_to(business, phone: str) -> int:
    with schema_context(business.schema):
        return OutboxMessage.objects.filter(channel="sms", kind="confirmation", recipient=phone).count()


# --- Requests per client IP -------------------------------------------------------------------------------


def test_request_limit_per_ip(shop):
    business, _service = shop

    def attempt(_):
        response = public_post(business.host, "holds/", {}, REMOTE_ADDR="203.0.113.9")
        return response.status_code, response.get("Retry-After"), response.json()

    results = race(CONTENDERS, lambda n: None, attempt)
    codes = [code for code, *_ in results]
    assert codes.count(400) == 20 and codes.count(429) == 30  # THROTTLE_PUBLIC_BOOKING = 20/min
    refused = next(r for r in results if r[0] == 429)
    assert 0 < int(refused[1]) <= 60 and "Too many requests" in refused[2]["detail"]


def test_read_limit_per_ip(shop):
    business, _service = shop
    with rates(public_read="7/min"):
        codes = race(
            CONTENDERS,
            lambda n: client_for(business.host, "en"),
            lambda client: client.get("/api/public/v1/services/", REMOTE_ADDR="203.0.113.9").status_code,
        )
    assert codes.count(200) == 7 and codes.count(429) == 43


# --- SMS pumping ------------------------------------------------------------------------------------------


def test_one_phone_number_from_50_addresses_gets_5_sms(shop):
    business, service = shop
    codes = book_all(business, service, phone=lambda n: "0170 1234567")
    assert codes.count(201) == 5 and codes.count(429) == 45  # THROTTLE_PUBLIC_SMS_PHONE = 5/hour
    assert sms_to(business, "+491701234567") == 5


def test_one_phone_number_across_businesses(shops):
    (first, _), (second, _) = shops

    def prepare(n: int):
        business, service = shops[n % 2]
        body = booking_body(service, slot(n), phone="0170 1234567", email=f"kunde{n}@example.com")
        return business, body, f"198.51.100.{n + 1}"

    def attempt(prepared):
        business, body, address = prepared
        return public_post(business.host, "bookings/", body, REMOTE_ADDR=address).status_code

    with rates(public_sms_phone="100/hour"):
        codes = race(CONTENDERS, prepare, attempt)
    assert codes.count(201) == 10 and codes.count(429) == 40  # THROTTLE_PUBLIC_SMS_PHONE_PLATFORM = 10/hour
    assert sms_to(first, "+491701234567") + sms_to(second, "+491701234567") == 10


def test_one_address_texting_50_numbers_gets_10_through(shop):
    business, service = shop
    with rates(public_booking="1000/min"):
        codes = book_all(business, service, phone=lambda n: f"0170 12345{n:02d}", ip="203.0.113.9")
    assert codes.count(201) == 10 and codes.count(429) == 40  # THROTTLE_PUBLIC_SMS_IP = 10/hour


def test_many_addresses_texting_many_numbers_meet_the_business_limit(shop):
    business, service = shop
    with rates(public_sms_business="8/hour"):
        codes = book_all(business, service, phone=lambda n: f"0170 12345{n:02d}")
    assert codes.count(201) == 8 and codes.count(429) == 42
    with schema_context(business.schema):
        assert OutboxMessage.objects.filter(channel="sms", kind="confirmation").count() == 8


# --- Open bookings per customer ---------------------------------------------------------------------------


@pytest.mark.parametrize("contact", ["email", "phone"])
def test_one_customer_gets_3_open_bookings_however_many_arrive_at_once(shop, contact):
    business, service = shop
    with schema_context(business.schema):
        BusinessSettings.objects.filter(id=1).update(max_open_bookings=3)
    connection.set_schema_to_public()
    same = {
        "email": {"email": lambda n: "lena@example.com"},
        "phone": {"email": lambda n: "", "phone": lambda n: "0170 1234567"},
    }
    with rates(public_sms_phone="1000/hour", public_sms_phone_platform="1000/hour"):
        codes = book_all(business, service, **same[contact])
    assert codes.count(201) == 3 and codes.count(400) == 47
    with schema_context(business.schema):
        assert Customer.objects.count() == 1
        assert Appointment.objects.filter(customer__isnull=False).count() == 3


# --- Holds ------------------------------------------------------------------------------------------------


def live_holds(business) -> int:
    with schema_context(business.schema):
        return Appointment.objects.filter(status="held").count()


def test_one_address_holds_2_slots_however_many_it_asks_for_at_once(shop):
    business, service = shop

    def prepare(n: int):
        return {"service": service.pk, "start": slot(n).isoformat(), "form_token": aged_form_token()}

    def attempt(body):
        response = public_post(business.host, "holds/", body, REMOTE_ADDR="203.0.113.9")
        return response.status_code, response.json().get("code")

    with rates(public_booking="1000/min"):
        results = race(CONTENDERS, prepare, attempt)
    assert [code for code, _ in results].count(201) == 2  # PUBLIC_HOLDS_PER_IP = 2
    assert sorted(results).count((429, "hold_limit")) == 48
    assert live_holds(business) == 2


def test_one_form_holds_one_slot_however_many_it_asks_for_at_once(shop):
    business, service = shop
    token = aged_form_token()

    def prepare(n: int):
        return {
            "service": service.pk,
            "start": slot(n).isoformat(),
            "form_token": token,
        }, f"198.51.100.{n + 1}"

    def attempt(prepared):
        body, address = prepared
        return public_post(business.host, "holds/", body, REMOTE_ADDR=address).status_code

    codes = race(CONTENDERS, prepare, attempt)
    assert set(codes) == {201}  # each new hold replaced the one before …
    assert live_holds(business) == 1  # … so one is left (PUBLIC_HOLDS_PER_FORM = 1)


# --- "Your data" requests ---------------------------------------------------------------------------------


def privacy_race(business, *, email, ip) -> list[int]:
    def attempt(n: int):
        response = client_for(business.host, "en").post(
            "/book/privacy/", {"email": email(n), "kind": "access"}, REMOTE_ADDR=ip(n)
        )
        return response.status_code

    return race(CONTENDERS, lambda n: n, attempt)


def test_privacy_requests_per_ip(shop):
    business, _service = shop
    codes = privacy_race(business, email=lambda n: f"someone{n}@example.com", ip=lambda n: "203.0.113.9")
    assert codes.count(302) == 5 and codes.count(429) == 45  # PRIVACY_REQUESTS_PER_HOUR = 5


def test_privacy_requests_per_email_address(shop):
    business, _service = shop
    codes = privacy_race(business, email=lambda n: "anna@example.com", ip=lambda n: f"198.51.100.{n + 1}")
    assert codes.count(302) == 5 and codes.count(429) == 45
