"""Only the booking of one service takes payments. The doors that cannot (a visit of several services, the
waitlist) refuse what the booking page would charge for, with words, instead of booking it unpaid."""

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from termino.tenants.crm.models import Customer
from termino.tenants.payments.models import CustomerPaymentRule
from termino.tenants.scheduling import lifecycle
from termino.tenants.scheduling.models import Appointment, Service
from termino.tenants.waitlist import services as waitlist
from termino.tenants.waitlist.models import Entry, Offer
from tests.tenants.booking.public_helpers import aged_form_token, booking_body, public_post
from tests.tenants.booking.test_waitlist_api import join_body
from tests.tenants.scheduling.factories import next_monday
from tests.tenants.waitlist.helpers import STAFF, link_token, tight_day

from .conftest import connect_business

pytestmark = pytest.mark.django_db


def test_a_visit_with_a_paid_service_is_refused_and_nothing_is_stored(shop_a):
    business, _account, deposit, staff = shop_a
    with schema_context(business.schema):
        wash = Service.objects.create(name="Waschen", duration_minutes=15, min_notice_minutes=0)
        wash.resources.set(staff)
    body = booking_body(wash, next_monday())
    body.pop("service")
    body["services"] = [{"service": wash.pk, "resource": None}, {"service": deposit.pk, "resource": None}]
    answer = public_post(business.host, "visits/", body)
    assert answer.status_code == 400
    assert "is paid online when it is booked. Please book it on its own." in answer.json()["detail"]
    with schema_context(business.schema):
        assert not Appointment.objects.exists() and not Customer.objects.exists()


def test_a_paid_service_has_no_waitlist(shop_a):
    business, _account, deposit, _staff = shop_a
    answer = public_post(business.host, "waitlist/", join_body(deposit, form_token=aged_form_token()))
    assert answer.status_code == 400
    assert "so it has no waitlist" in answer.json()["detail"]
    with schema_context(business.schema):
        assert not Entry.objects.exists() and not Customer.objects.exists()


def test_an_offer_to_a_customer_who_must_pay_frees_the_time_instead_of_booking_it(business_a, fake_stripe):
    """Lena joined the waitlist of a free service; since then the team asks her for a deposit. Her offer
    cannot take the payment: it is declined, the time goes back to the booking page, nothing is booked."""
    connect_business(fake_stripe, business_a)
    with schema_context(business_a.schema):
        service, _staff, start, booked = tight_day()
    monday = str(start.date())
    joined = public_post(business_a.host, "waitlist/", join_body(service, date_from=monday, date_to=monday))
    assert joined.status_code == 201, joined.json()
    with schema_context(business_a.schema):
        CustomerPaymentRule.objects.create(
            customer=Customer.objects.get(first_name="Lena"), always_deposit=True
        )
        lifecycle.appointment_cancel(actor=STAFF, appointment=booked)
        (offer,) = waitlist.offers_match()
        token, hold = link_token(offer), offer.appointment_id
    connection.set_schema_to_public()
    answer = public_post(business_a.host, f"waitlist/offers/{token}/accept/")
    assert answer.status_code == 409
    assert "free again on the booking page" in answer.json()["detail"]
    with schema_context(business_a.schema):
        assert Offer.objects.get(pk=offer.pk).status == "declined"
        assert not Appointment.objects.filter(pk=hold).exists()
        assert not Appointment.objects.filter(customer__first_name="Lena").exists()
