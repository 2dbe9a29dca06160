"""Card on file: a SetupIntent through Checkout (mode setup) confirms the booking without a charge; the
team charges the fee for a no-show or a late cancellation, with confirmation, once."""

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from termino.shared import timeutils
from termino.tenants.payments import services
from termino.tenants.payments.models import Payment, ServicePaymentRule
from termino.tenants.scheduling.models import Appointment

from .conftest import deliver
from .helpers import book, pay, payment_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def card_shop(shop_a):
    business, account, service, staff = shop_a
    with schema_context(business.schema):
        ServicePaymentRule.objects.filter(service=service).update(kind="card_on_file", amount_cents=3000)
    return business, account, service, staff


def _booked_with_card(fake, business, service):
    answer = book(business, service)
    assert answer["payment"]["kind"] == "card_on_file"
    assert answer["payment"]["fee_cents"] == 3000
    pay(fake, business, answer["payment"]["token"])
    return answer, payment_of(business, answer["payment"]["token"])


def test_the_card_is_saved_and_the_booking_confirmed_without_a_charge(card_shop, fake_stripe):
    business, _account, service, _staff = card_shop
    answer, card = _booked_with_card(fake_stripe, business, service)
    session = next(r for r in fake_stripe.requests if r["path"] == "/v1/checkout/sessions")["params"]
    assert session["mode"] == "setup"
    assert session["customer"].startswith("cus_")
    assert (card.status, card.amount_cents, card.payment_method_id[:3], card.stripe_customer_id[:4]) == (
        "succeeded",
        0,
        "pm_",
        "cus_",
    )
    assert not fake_stripe.payment_intents  # nothing charged
    with schema_context(business.schema):
        assert Appointment.objects.get(pk=answer["id"]).status == "confirmed"


def test_the_fee_is_charged_for_a_no_show_once(card_shop, fake_stripe):
    business, account, service, _staff = card_shop
    answer, card = _booked_with_card(fake_stripe, business, service)
    with schema_context(business.schema):
        assert "only for a no-show" in services.fee_refusal(card)
        # The appointment has begun and the customer did not come.
        appointment = Appointment.objects.get(pk=answer["id"])
        Appointment.objects.filter(pk=appointment.pk).update(
            status="no_show", start=timezone.now().replace(microsecond=0)
        )
        card = Payment.objects.get(pk=card.pk)
        fee = services.fee_charge(card=card, user=None)
        assert (fee.kind, fee.status, fee.amount_cents, fee.application_fee_cents) == (
            "fee",
            "succeeded",
            3000,
            85,
        )
        request = next(r for r in fake_stripe.requests if r["path"] == "/v1/payment_intents")
        assert request["params"]["off_session"] == "true"
        assert request["params"]["payment_method"] == card.payment_method_id
        assert {k.lower(): v for k, v in request["headers"].items()}["stripe-account"] == account
        assert services.fee_refusal(Payment.objects.get(pk=card.pk)) == "The fee has been charged already."
        with pytest.raises(services.InvalidRequest):
            services.fee_charge(card=card, user=None)
    # Stripe's own event of the charge changes nothing more.
    deliver(fake_stripe, *fake_stripe.take_pending())
    with schema_context(business.schema):
        assert Payment.objects.filter(kind="fee").count() == 1


def test_a_declined_card_leaves_a_failed_fee_with_the_banks_words(card_shop, fake_stripe):
    business, _account, service, _staff = card_shop
    answer, card = _booked_with_card(fake_stripe, business, service)
    fake_stripe.declining_methods.add(card.payment_method_id)
    with schema_context(business.schema):
        Appointment.objects.filter(pk=answer["id"]).update(status="no_show")
        fee = services.fee_charge(card=Payment.objects.get(pk=card.pk), user=None)
        assert (fee.status, fee.failure_message) == ("failed", "Your card has insufficient funds.")
        # Tried again once the customer has money: a new attempt.
        fake_stripe.declining_methods.clear()
        again = services.fee_charge(card=Payment.objects.get(pk=card.pk), user=None)
        assert again.status == "succeeded"


def test_a_late_cancellation_may_be_charged_an_early_one_not(card_shop, fake_stripe):
    business, _account, service, _staff = card_shop
    answer, card = _booked_with_card(fake_stripe, business, service)
    with schema_context(business.schema):
        Appointment.objects.filter(pk=answer["id"]).update(status="cancelled", updated_at=timezone.now())
        assert services.fee_refusal(Payment.objects.get(pk=card.pk)).startswith("The fee can be charged only")
        # Cancelled two hours before the start: after the 24-hour cut-off.
        Appointment.objects.filter(pk=answer["id"]).update(start=timeutils.shift(timeutils.now(), hours=2))
        assert services.fee_refusal(Payment.objects.get(pk=card.pk)) == ""


def test_a_fee_stripe_did_not_answer_is_charged_by_the_next_try_once(card_shop, fake_stripe, settings):
    """Stripe away when staff charge the fee: they are told, and the next try sends the same fee (its own
    key) instead of saying it was charged already."""
    from termino.platform.billing.connect import PaymentProviderError

    business, _account, service, _staff = card_shop
    answer, card = _booked_with_card(fake_stripe, business, service)
    with schema_context(business.schema):
        Appointment.objects.filter(pk=answer["id"]).update(
            status="no_show", start=timezone.now().replace(microsecond=0)
        )
        card = Payment.objects.get(pk=card.pk)
        base, settings.STRIPE_API_BASE = settings.STRIPE_API_BASE, "http://127.0.0.1:9"  # Stripe unreachable
        with pytest.raises(PaymentProviderError):
            services.fee_charge(card=card, user=None)
        (unsent,) = Payment.objects.filter(kind="fee")
        assert (unsent.status, unsent.payment_intent_id) == ("pending", None)
        assert services.fee_refusal(Payment.objects.get(pk=card.pk)) == ""
        settings.STRIPE_API_BASE = base
        fee = services.fee_charge(card=card, user=None)
        assert (fee.pk, fee.status, fee.amount_cents) == (unsent.pk, "succeeded", 3000)
        assert Payment.objects.filter(kind="fee").count() == 1
        assert services.fee_refusal(Payment.objects.get(pk=card.pk)) == "The fee has been charged already."
    assert len([r for r in fake_stripe.requests if r["path"] == "/v1/payment_intents"]) == 1


def test_the_cut_off_is_judged_by_when_it_was_cancelled_not_by_a_later_save(card_shop, fake_stripe):
    """Cancelled three days ahead (before the 24-hour cut-off): no fee, even when the appointment is saved
    again an hour before its start. Cancelled two hours ahead: the fee may be charged."""
    import time_machine

    from termino.tenants.scheduling import lifecycle
    from termino.tenants.scheduling.events import Actor

    business, _account, service, _staff = card_shop
    desk = Actor(source="backoffice")
    early, early_card = _booked_with_card(fake_stripe, business, service)
    with schema_context(business.schema):
        appointment = Appointment.objects.get(pk=early["id"])
        with time_machine.travel(timeutils.shift(appointment.start, hours=-72), tick=False):
            lifecycle.appointment_cancel(actor=desk, appointment=appointment)
        with time_machine.travel(timeutils.shift(appointment.start, hours=-1), tick=False):
            Appointment.objects.get(pk=appointment.pk).save()  # e.g. an erasure's clean-up
        assert services.fee_refusal(Payment.objects.get(pk=early_card.pk)).startswith(
            "The fee can be charged"
        )
    late, late_card = _booked_with_card(fake_stripe, business, service)
    with schema_context(business.schema):
        appointment = Appointment.objects.get(pk=late["id"])
        with time_machine.travel(timeutils.shift(appointment.start, hours=-2), tick=False):
            lifecycle.appointment_cancel(actor=desk, appointment=appointment)
        assert services.fee_refusal(Payment.objects.get(pk=late_card.pk)) == ""
