"""Stripe's events of a connected account arrive twice, at once, and out of order: one effect each.

Real concurrent deliveries: threads, each with its own database connection, against committed data."""

import pytest
from django_tenants.utils import schema_context

from termino.platform.billing.models import StripeEvent
from termino.tenants.payments.models import Payment
from termino.tenants.scheduling.models import Appointment, AppointmentChange
from tests.conftest import unique_slug
from tests.tenants.booking.public_helpers import race

from .conftest import connect_business, deliver, deposit_service
from .helpers import book, payment_of


@pytest.fixture
def shop(committed_db, fake_stripe):
    business = committed_db(unique_slug())
    connect_business(fake_stripe, business)
    with schema_context(business.schema):
        service, _staff = deposit_service()
    return business, service


def _confirmations(business, appointment_id) -> int:
    with schema_context(business.schema):
        return AppointmentChange.objects.filter(appointment_id=appointment_id, kind="created").count()


def test_the_same_event_delivered_concurrently_confirms_once(shop, fake_stripe):
    business, service = shop
    answer = book(business, service)
    events = fake_stripe.pay_checkout(payment_of(business, answer["payment"]["token"]).checkout_session_id)
    completed = events[0]
    results = race(6, lambda n: completed, lambda event: deliver(fake_stripe, event).json()["result"])
    assert sum(r.startswith("duplicate") for r in results) == 5
    assert StripeEvent.objects.filter(event_id=completed["id"]).count() == 1
    assert _confirmations(business, answer["id"]) == 1
    with schema_context(business.schema):
        assert Appointment.objects.get(pk=answer["id"]).status == "confirmed"


def test_two_events_of_one_payment_at_once_confirm_once(shop, fake_stripe):
    """checkout.session.completed and payment_intent.succeeded say the same: whichever is first confirms."""
    business, service = shop
    answer = book(business, service)
    events = fake_stripe.pay_checkout(payment_of(business, answer["payment"]["token"]).checkout_session_id)
    results = race(2, lambda n: events[n], lambda event: deliver(fake_stripe, event).json()["result"])
    assert sum("paid already" in r for r in results) == 1, results
    assert _confirmations(business, answer["id"]) == 1
    assert payment_of(business, answer["payment"]["token"]).payment_intent_id.startswith("pi_")


def test_a_late_failure_or_expiry_does_not_undo_a_payment(shop, fake_stripe):
    business, service = shop
    answer = book(business, service)
    token = answer["payment"]["token"]
    session_id = payment_of(business, token).checkout_session_id
    failed = fake_stripe.decline_checkout(session_id)  # a first card declined ...
    paid = fake_stripe.pay_checkout(session_id)  # ... then a second one paid
    expired = fake_stripe.event(
        "checkout.session.expired",
        {**fake_stripe.sessions[session_id]["object"], "status": "expired"},
        account=failed[0]["account"],
    )
    deliver(fake_stripe, *paid, *failed, expired)  # the failure and an expiry arrive last
    payment = payment_of(business, token)
    assert payment.status == "succeeded"
    with schema_context(business.schema):
        assert Appointment.objects.get(pk=answer["id"]).status == "confirmed"
        assert Payment.objects.count() == 1


def test_a_payment_arriving_after_its_failure_is_refunded_when_the_slot_is_gone(shop, fake_stripe):
    business, service = shop
    answer = book(business, service)
    token = answer["payment"]["token"]
    session_id = payment_of(business, token).checkout_session_id
    [failed] = fake_stripe.decline_checkout(session_id)
    fake_stripe.sessions[session_id]["object"]["status"] = "open"  # Stripe let a second card through
    paid = fake_stripe.pay_checkout(session_id)
    deliver(fake_stripe, failed)  # the slot is released ...
    book(business, service, email="someone@example.com", phone="", sms_consent=False)  # ... and taken
    deliver(fake_stripe, *paid)  # then Stripe reports the money
    payment = payment_of(business, token)
    assert (payment.status, payment.refunded_cents) == ("succeeded", 2000)
    assert [r["params"]["amount"] for r in fake_stripe.requests if r["path"] == "/v1/refunds"] == ["2000"]
