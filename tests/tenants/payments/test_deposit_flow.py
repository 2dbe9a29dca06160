"""A booking with a deposit: the slot is held while the customer pays through (fake) Checkout on the
business's own Stripe account, the payment confirms it, an early cancellation refunds it by the policy."""

from datetime import time, timedelta

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from termino.shared import timeutils
from termino.tenants.payments.models import Payment, PaymentSettings, Refund
from termino.tenants.scheduling.models import Appointment
from tests.tenants.booking.public_helpers import public_post

from .conftest import deliver
from .helpers import book, manage_token, payment_of

pytestmark = pytest.mark.django_db


def _checkout_request(fake):
    return next(r for r in fake.requests if r["path"] == "/v1/checkout/sessions")


def test_a_deposit_holds_the_slot_until_paid_then_confirms_it(shop_a, fake_stripe):
    business, account, service, _staff = shop_a
    answer = book(business, service)
    assert answer["status"] == "held"
    payment = answer["payment"]
    assert (payment["kind"], payment["amount_cents"], payment["currency"]) == ("deposit", 2000, "eur")
    assert payment["checkout_url"].startswith(f"{fake_stripe.base_url}/c/pay/cs_test_")

    request = _checkout_request(fake_stripe)
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["stripe-account"] == account
    assert headers["idempotency-key"] == f"termino-checkout-{payment['token']}"
    params = request["params"]
    assert params["payment_intent_data"]["application_fee_amount"] == "60"  # 2.5 % + 10 cents
    assert params["line_items"][0]["price_data"]["unit_amount"] == "2000"
    assert abs(int(params["expires_at"]) - timeutils.shift(timeutils.now(), minutes=30).timestamp()) < 5

    with schema_context(business.schema):
        held = Appointment.objects.get(pk=answer["id"])
        assert held.status == "held"
        assert held.customer.email == "lena.fischer@example.com"
        # The hold outlives the Checkout session, so a paid session always finds its slot.
        assert abs(held.hold_expires_at - timeutils.shift(timeutils.now(), minutes=35)) < timedelta(seconds=5)
        assert not hasattr(held, "hold_owner") or held.hold_owner is None

    with schema_context(business.schema):
        session_id = Payment.objects.get(token=payment["token"]).checkout_session_id
    deliver(fake_stripe, *fake_stripe.pay_checkout(session_id))
    with schema_context(business.schema):
        booked = Appointment.objects.get(pk=answer["id"])
        assert booked.status == "confirmed"
        assert booked.hold_expires_at is None
        paid = Payment.objects.get(token=payment["token"])
        assert (paid.status, paid.application_fee_cents, paid.payment_intent_id[:3]) == (
            "succeeded",
            60,
            "pi_",
        )


@pytest.mark.clock
def test_cancelling_before_the_cutoff_refunds_the_deposit_once(
    shop_a, fake_stripe, django_capture_on_commit_callbacks
):
    business, account, service, _staff = shop_a
    answer = book(business, service)
    token = answer["payment"]["token"]
    deliver(fake_stripe, *fake_stripe.pay_checkout(payment_of(business, token).checkout_session_id))
    manage = manage_token(business, token)

    with django_capture_on_commit_callbacks(execute=True):
        response = public_post(business.host, f"bookings/{manage}/cancel/")
    assert response.status_code == 200, response.content

    refunds = [r for r in fake_stripe.requests if r["path"] == "/v1/refunds"]
    assert len(refunds) == 1
    assert refunds[0]["params"]["amount"] == "2000"
    assert refunds[0]["params"]["refund_application_fee"] == "true"
    assert {k.lower(): v for k, v in refunds[0]["headers"].items()}["stripe-account"] == account
    with schema_context(business.schema):
        refund = Refund.objects.get()
        assert (refund.status, refund.reason, refund.amount_cents) == ("succeeded", "policy", 2000)
        assert Payment.objects.get(token=token).refunded_cents == 2000

    # Stripe's charge.refunded (twice) confirms what is recorded and adds nothing.
    events = fake_stripe.take_pending()
    deliver(fake_stripe, *events, *events)
    with schema_context(business.schema):
        assert Refund.objects.count() == 1
        assert Payment.objects.get(token=token).refunded_cents == 2000


def test_the_policy_may_give_back_only_part(shop_a, fake_stripe, django_capture_on_commit_callbacks):
    business, _account, service, _staff = shop_a
    with schema_context(business.schema):
        PaymentSettings.objects.create(refund_before_cutoff_percent=50)
    answer = book(business, service)
    token = answer["payment"]["token"]
    deliver(fake_stripe, *fake_stripe.pay_checkout(payment_of(business, token).checkout_session_id))
    manage = manage_token(business, token)
    with django_capture_on_commit_callbacks(execute=True):
        assert public_post(business.host, f"bookings/{manage}/cancel/").status_code == 200
    assert payment_of(business, token).refunded_cents == 1000


def test_a_failed_payment_releases_the_slot_and_closes_the_session(shop_a, fake_stripe):
    business, _account, service, _staff = shop_a
    answer = book(business, service)
    payment = payment_of(business, answer["payment"]["token"])
    deliver(fake_stripe, *fake_stripe.decline_checkout(payment.checkout_session_id))
    payment = payment_of(business, answer["payment"]["token"])
    assert payment.status == "failed"
    assert payment.failure_message == "Your card was declined."
    assert fake_stripe.sessions[payment.checkout_session_id]["object"]["status"] == "expired"
    with schema_context(business.schema):
        assert not Appointment.objects.filter(pk=answer["id"]).exists()
    # The time is free again: someone else books it.
    again = book(business, service, email="other@example.com", phone="", sms_consent=False)
    assert again["status"] == "held"


def test_an_expired_session_releases_the_slot(shop_a, fake_stripe):
    business, _account, service, _staff = shop_a
    answer = book(business, service)
    payment = payment_of(business, answer["payment"]["token"])
    deliver(fake_stripe, *fake_stripe.expire_checkout(payment.checkout_session_id))
    assert payment_of(business, payment.token).status == "expired"
    with schema_context(business.schema):
        assert not Appointment.objects.filter(pk=answer["id"]).exists()


def test_paid_after_the_hold_lapsed_is_booked_if_free_else_refunded(
    shop_a, fake_stripe, django_capture_on_commit_callbacks
):
    business, _account, service, _staff = shop_a
    answer = book(business, service)
    payment = payment_of(business, answer["payment"]["token"])
    with schema_context(business.schema):
        Appointment.objects.filter(pk=answer["id"]).delete()  # the hold lapsed and was swept
    with django_capture_on_commit_callbacks(execute=True):
        deliver(fake_stripe, *fake_stripe.pay_checkout(payment.checkout_session_id))
    payment = payment_of(business, payment.token)
    assert (payment.status, payment.refunded_cents) == ("succeeded", 2000)
    with schema_context(business.schema):
        assert Refund.objects.get().reason == "slot_lost"


def test_the_hold_of_a_payment_lapses_after_the_session(shop_a, fake_stripe):
    business, _account, service, _staff = shop_a
    answer = book(business, service)
    with schema_context(business.schema):
        held = Appointment.objects.get(pk=answer["id"])
        session = fake_stripe.sessions[Payment.objects.get().checkout_session_id]["object"]
        assert held.hold_expires_at.timestamp() - session["expires_at"] >= 5 * 60 - 2


def _paid_then_cancelled_while_stripe_is_away(shop, fake, settings, capture):
    """A deposit paid, then the booking cancelled early while Stripe cannot be reached: the refund waits.
    Returns (business, payment token, Stripe's real address to put back)."""
    business, _account, service, _staff = shop
    token = book(business, service)["payment"]["token"]
    deliver(fake, *fake.pay_checkout(payment_of(business, token).checkout_session_id))
    base, settings.STRIPE_API_BASE = settings.STRIPE_API_BASE, "http://127.0.0.1:9"  # Stripe unreachable
    with capture(execute=True):
        assert (
            public_post(business.host, f"bookings/{manage_token(business, token)}/cancel/").status_code == 200
        )
    return business, token, base


def test_a_refund_stripe_did_not_take_is_sent_again_by_the_due_work(
    shop_a, fake_stripe, settings, django_capture_on_commit_callbacks
):
    from termino.platform.duework import due
    from termino.platform.duework.models import DueWork

    business, token, base = _paid_then_cancelled_while_stripe_is_away(
        shop_a, fake_stripe, settings, django_capture_on_commit_callbacks
    )
    with schema_context(business.schema):
        refund = Refund.objects.get()
        assert (refund.status, refund.stripe_refund_id) == ("pending", None)
        assert Payment.objects.get(token=token).refunded_cents == 2000  # reserved: cannot be refunded twice
    assert DueWork.objects.filter(tenant_id=business.tenant.pk, kind="payments.refunds").exists()
    settings.STRIPE_API_BASE = base
    with schema_context(business.schema):
        assert due.kinds()["payments.refunds"].next_due() is not None
        assert due.kinds()["payments.refunds"].run() == 1
        assert Refund.objects.get().status == "succeeded"
        assert due.kinds()["payments.refunds"].next_due() is None
    assert len([r for r in fake_stripe.requests if r["path"] == "/v1/refunds"]) == 1


def test_a_refund_whose_answer_was_lost_is_recognised_in_stripes_event_not_counted_twice(
    shop_a, fake_stripe, settings, django_capture_on_commit_callbacks
):
    """Our refund reached Stripe but its answer did not reach us: the `charge.refunded` event names our row
    (metadata), which is settled with Stripe's id, not recorded again as a refund made at Stripe."""
    from termino.platform.billing import connect

    business, token, base = _paid_then_cancelled_while_stripe_is_away(
        shop_a, fake_stripe, settings, django_capture_on_commit_callbacks
    )
    settings.STRIPE_API_BASE = base
    with schema_context(business.schema):
        refund, payment = Refund.objects.get(), Payment.objects.get(token=token)
        # The request as refund_send makes it, its answer thrown away.
        connect.refund_create(
            tenant=business.tenant,
            params={
                "payment_intent": payment.payment_intent_id,
                "amount": refund.amount_cents,
                "refund_application_fee": True,
                "metadata": {"payment": token, "schema": business.schema, "refund": str(refund.pk)},
            },
            key=f"termino-refund-{business.schema}-{refund.pk}",
        )
    deliver(fake_stripe, *fake_stripe.take_pending())
    with schema_context(business.schema):
        (settled,) = Refund.objects.all()
        assert settled.pk == refund.pk and settled.status == "succeeded" and settled.stripe_refund_id
        assert settled.reason != "stripe"
        assert Payment.objects.get(token=token).refunded_cents == 2000
        from termino.tenants.payments import services as payments

        assert payments.refunds_next_due() is None
        assert payments.refund_send(refund_id=refund.pk).status == "succeeded"
    assert len([r for r in fake_stripe.requests if r["path"] == "/v1/refunds"]) == 1


@pytest.mark.clock
@pytest.mark.parametrize("door", ["staff cancels early", "request declined", "staff cancels late"])
def test_the_team_s_cancellation_refunds_by_the_same_policy(
    shop_a, fake_stripe, door, django_capture_on_commit_callbacks
):
    from termino.tenants.business.models import BusinessSettings
    from termino.tenants.scheduling import lifecycle
    from termino.tenants.scheduling.events import Actor

    business, _account, service, _staff = shop_a
    if door == "request declined":
        with schema_context(business.schema):
            BusinessSettings.objects.update_or_create(id=1, defaults={"approval_required": True})
    answer = book(business, service)
    token = answer["payment"]["token"]
    deliver(fake_stripe, *fake_stripe.pay_checkout(payment_of(business, token).checkout_session_id))
    with schema_context(business.schema):
        appointment = Appointment.objects.get(pk=answer["id"])
        assert appointment.status == ("requested" if door == "request declined" else "confirmed")
        if door == "staff cancels late":  # 1 hour before the start: after the 24-hour cut-off
            Appointment.objects.filter(pk=appointment.pk).update(
                start=timeutils.shift(timeutils.now(), hours=1)
            )
        actor = Actor(source="backoffice", user=get_user_model().objects.get(role="owner"))
        with django_capture_on_commit_callbacks(execute=True):
            if door == "request declined":
                lifecycle.appointment_decline(actor=actor, appointment=appointment, reason="")
            else:
                lifecycle.appointment_cancel(actor=actor, appointment=appointment, reason="")
    refunded = payment_of(business, token).refunded_cents
    assert refunded == (0 if door == "staff cancels late" else 2000)


def test_times_held_for_payment_count_as_open_bookings(shop_a, settings):
    from termino.tenants.business.models import BusinessSettings
    from tests.tenants.booking.public_helpers import booking_body
    from tests.tenants.scheduling.factories import next_monday

    business, _account, service, _staff = shop_a
    with schema_context(business.schema):
        BusinessSettings.objects.update_or_create(id=1, defaults={"max_open_bookings": 2})
    book(business, service, at=time(9))
    book(business, service, at=time(11))
    third = public_post(business.host, "bookings/", booking_body(service, next_monday(time(13))))
    assert third.status_code == 400
    assert "2 open bookings" in third.json()["detail"]


def test_a_session_whose_event_never_came_is_settled_by_the_due_work(shop_a, fake_stripe):
    from termino.platform.duework import due

    business, _account, service, _staff = shop_a
    unpaid = book(business, service, at=time(9))["payment"]["token"]
    paid = book(business, service, at=time(11), email="zwei@example.com", phone="", sms_consent=False)
    fake_stripe.pay_checkout(
        payment_of(business, paid["payment"]["token"]).checkout_session_id
    )  # events lost
    with schema_context(business.schema):
        settle = due.kinds()["payments.checkouts"]
        assert settle.run() == 0  # not yet: the holds are still on
        Payment.objects.update(created_at=timeutils.shift(timeutils.now(), minutes=-36))
        assert settle.next_due() <= timeutils.now()
        assert settle.run() == 2
        assert Payment.objects.get(token=unpaid).status == "expired"
        assert Payment.objects.get(token=paid["payment"]["token"]).status == "succeeded"
        assert Appointment.objects.get(pk=paid["id"]).status == "confirmed"
        assert settle.next_due() is None
    session = fake_stripe.sessions[payment_of(business, unpaid).checkout_session_id]["object"]
    assert session["status"] == "expired"  # closed at Stripe before the slot was given up


@pytest.mark.clock
def test_the_confirmation_says_what_was_paid_and_what_cancelling_means(shop_a, fake_stripe):
    """The e-mail and SMS confirming a paid booking name the amount and the policy, in the business's
    language (German here); a booking without payment has no such line."""
    from termino.tenants.notifications import rendering
    from termino.tenants.notifications.models import OutboxMessage
    from termino.tenants.scheduling.models import Service

    business, _account, service, staff = shop_a
    answer = book(business, service)
    deliver(
        fake_stripe,
        *fake_stripe.pay_checkout(payment_of(business, answer["payment"]["token"]).checkout_session_id),
    )
    with schema_context(business.schema):
        PaymentSettings.objects.update_or_create(pk=1, defaults={"refund_before_cutoff_percent": 50})
        start = Appointment.objects.get(pk=answer["id"]).start
        texts = {
            m.channel: rendering.render(m, tenant=business.tenant)[1]
            for m in OutboxMessage.objects.filter(appointment_id=answer["id"], kind="confirmation")
        }
        assert set(texts) == {"email", "sms"}
        cutoff = timeutils.localtime(
            timeutils.shift(start, hours=-24), timeutils.zone(business.tenant.time_zone)
        )
        for text in texts.values():
            assert "Online bezahlt: 20,00\xa0€ (Anzahlung)." in text, text
            assert f"Bei Absage bis {cutoff.day}. " in text or f"Bei Absage bis {cutoff.day} " in text, text
            assert "50 % davon zurück" in text and "wird er einbehalten" in text
        free = Service.objects.create(name="Beratung", duration_minutes=30, min_notice_minutes=0)
        free.resources.set(staff)
    other = book(business, free, email="max@example.com", phone="0171 7654321", last_name="Maier")
    with schema_context(business.schema):
        (message,) = OutboxMessage.objects.filter(
            appointment_id=other["id"], kind="confirmation", channel="email"
        )
        text = rendering.render(message, tenant=business.tenant)[1]
        assert "bezahlt" not in text and "\n\n\n" not in text


def test_a_refund_made_in_stripes_dashboard_is_recorded_once(shop_a, fake_stripe):
    """The owner gives 5 € back in Stripe's own dashboard: Termino records it from the event, once."""
    business, account, service, _staff = shop_a
    token = book(business, service)["payment"]["token"]
    deliver(fake_stripe, *fake_stripe.pay_checkout(payment_of(business, token).checkout_session_id))
    intent = payment_of(business, token).payment_intent_id
    fake_stripe._refund_create({"payment_intent": intent, "amount": 500}, account)  # Stripe's side
    (event,) = fake_stripe.take_pending()
    deliver(fake_stripe, event)
    deliver(fake_stripe, event)  # Stripe sends an event again when our answer was slow
    with schema_context(business.schema):
        (refund,) = Refund.objects.all()
        assert (refund.reason, refund.status, refund.amount_cents) == ("stripe", "succeeded", 500)
        assert Payment.objects.get(token=token).refunded_cents == 500
