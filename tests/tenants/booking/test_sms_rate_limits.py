"""Rate limits of the public endpoints that send an SMS: per phone number (at one business and across
all), per client IP, and X-Forwarded-For forgery that changes nothing."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import override_settings
from django_tenants.utils import schema_context
from rest_framework.settings import api_settings

from termino.tenants.business.models import BusinessSettings
from tests.tenants.scheduling.factories import next_monday, salon

from .public_helpers import booking_body, public_post

pytestmark = pytest.mark.django_db


def rates(**changes):
    """PUBLIC_RATE_LIMITS with some limits changed."""
    return override_settings(PUBLIC_RATE_LIMITS={**settings.PUBLIC_RATE_LIMITS, **changes})


def open_shop(business):
    with schema_context(business.schema):
        service, _staff, _room = salon()
        # Many bookings per customer here: the limits under test are the rate limits.
        BusinessSettings.objects.update_or_create(id=1, defaults={"max_open_bookings": 100})
    return service


@pytest.fixture
def shop(business_a):
    return business_a, open_shop(business_a)


def book(business, service, slot: int, *, phone="0170 1234567", ip="203.0.113.1", **headers):
    start = next_monday() + timedelta(minutes=30 * slot)
    body = booking_body(
        service, start, phone=phone, sms_consent=bool(phone), email=f"guest{slot}@example.com"
    )
    return public_post(business.host, "bookings/", body, REMOTE_ADDR=ip, **headers)


def test_drf_trusts_forwarded_for_exactly_as_deep_as_our_helper():
    assert api_settings.NUM_PROXIES == settings.NUM_PROXIES
    with override_settings(NUM_PROXIES=2, REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": 2}):
        assert api_settings.NUM_PROXIES == 2


def test_one_phone_number_is_limited_even_from_many_addresses(shop):
    business, service = shop
    with rates(public_sms_phone="3/hour"):
        codes = [book(business, service, n, ip=f"198.51.100.{n}").status_code for n in range(3)]
        assert codes == [201, 201, 201]
        refused = book(business, service, 3, ip="198.51.100.99", phone="+49 170 1234567")  # same number
        assert refused.status_code == 429
        assert "phone number" in refused.json()["detail"] and "minutes" in refused.json()["detail"]
        assert 0 < int(refused["Retry-After"]) <= 3600
        assert book(business, service, 4, ip="198.51.100.99", phone="0171 7654321").status_code == 201


def test_failed_bookings_do_not_count(shop):
    business, service = shop
    with rates(public_sms_phone="2/hour"):
        for _ in range(4):  # 22:00 is outside opening hours: nothing booked, nothing sent
            late = booking_body(service, next_monday().replace(hour=22), phone="0170 1234567")
            assert public_post(business.host, "bookings/", late).status_code == 409
        assert [book(business, service, n).status_code for n in range(2)] == [201, 201]
        assert book(business, service, 2).status_code == 429


def test_bookings_without_a_phone_number_have_no_phone_limit(shop):
    business, service = shop
    with rates(public_sms_phone="1/hour"):
        codes = [book(business, service, n, phone="", ip=f"198.51.100.{n}").status_code for n in range(3)]
    assert codes == [201, 201, 201]


def test_one_phone_number_is_limited_across_businesses(business_a, business_b):
    service_a, service_b = open_shop(business_a), open_shop(business_b)
    with rates(public_sms_phone="10/hour", public_sms_phone_platform="2/hour"):
        assert book(business_a, service_a, 0).status_code == 201
        assert book(business_b, service_b, 0, ip="198.51.100.2").status_code == 201
        refused = book(business_b, service_b, 1, ip="198.51.100.3")
        assert refused.status_code == 429 and "phone number" in refused.json()["detail"]


def test_one_address_cannot_text_many_numbers(shop):
    business, service = shop
    with rates(public_sms_ip="2/hour"):
        assert [book(business, service, n, phone=f"0170 12345{n:02d}").status_code for n in range(2)] == [
            201,
            201,
        ]
        refused = book(business, service, 2, phone="0170 1234599")
        assert refused.status_code == 429 and "your connection" in refused.json()["detail"]
        assert book(business, service, 3, phone="0170 1234598", ip="198.51.100.50").status_code == 201


@override_settings(NUM_PROXIES=1)
def test_forged_forwarded_for_does_not_change_the_key(shop):
    business, service = shop
    proxy = "10.0.0.1"
    with rates(public_sms_ip="2/hour"):
        for n in range(2):
            forged = {"HTTP_X_FORWARDED_FOR": f"6.6.6.{n}, 1.1.1.{n}, 198.51.100.7"}
            assert (
                book(business, service, n, phone=f"0170 12345{n:02d}", ip=proxy, **forged).status_code == 201
            )
        forged = {"HTTP_X_FORWARDED_FOR": "7.7.7.7, 198.51.100.7"}
        assert book(business, service, 2, phone="0170 1234599", ip=proxy, **forged).status_code == 429
        other = {"HTTP_X_FORWARDED_FOR": "198.51.100.8"}
        assert book(business, service, 3, phone="0170 1234598", ip=proxy, **other).status_code == 201


@override_settings(NUM_PROXIES=1)
def test_forged_forwarded_for_does_not_escape_the_request_rate(shop):
    business, _service = shop
    codes = [
        public_post(
            business.host,
            "bookings/",
            {},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=f"6.6.{n}.1, 198.51.100.7",
        ).status_code
        for n in range(21)
    ]
    assert codes == [400] * 20 + [429]
    limited = public_post(
        business.host, "bookings/", {}, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7"
    )
    assert limited.status_code == 429 and "Too many requests" in limited.json()["detail"]


def test_changes_count_for_the_customer_phone_number(shop):
    business, service = shop
    with rates(public_sms_phone="2/hour"):
        token = book(business, service, 0).json()["manage_token"]
        later = (next_monday() + timedelta(hours=2)).isoformat()
        moved = public_post(
            business.host, f"bookings/{token}/reschedule/", {"start": later}, REMOTE_ADDR="198.51.100.1"
        )
        assert moved.status_code == 200
        refused = public_post(business.host, f"bookings/{token}/cancel/", REMOTE_ADDR="198.51.100.2")
        assert refused.status_code == 429 and "phone number" in refused.json()["detail"]
        with schema_context(business.schema):
            from termino.tenants.scheduling.models import Appointment

            assert Appointment.objects.get(manage_token=token).status != "cancelled"


def test_an_ipv6_client_counts_by_its_64_network(shop):
    """One subscriber gets a whole /64: stepping through its addresses does not escape the limit."""
    business, _service = shop
    codes = [
        public_post(business.host, "bookings/", {}, REMOTE_ADDR=f"2001:db8:1:2::{n:x}").status_code
        for n in range(1, 22)
    ]
    assert codes == [400] * 20 + [429]
    assert public_post(business.host, "bookings/", {}, REMOTE_ADDR="2001:db8:1:3::1").status_code == 400
