"""Subscribe → a payment fails → suspended → pays → active: the owner's clicks, the fake Stripe server, and
Stripe's signed webhooks, with the booking page following along."""

from datetime import timedelta

import pytest
from django.utils import timezone

from termino.platform.billing import tasks
from termino.platform.billing.models import StatusChange, StripeEvent
from termino.platform.tenancy.models import TenantStatus
from tests.conftest import client_for
from tests.tenants.backoffice.helpers import log_in_as

from .conftest import account_of, deliver, status_of

pytestmark = pytest.mark.django_db


def test_subscribe_fail_suspend_pay_active(business_a, fake_stripe, django_capture_on_commit_callbacks):
    owner = log_in_as(business_a)
    booking = client_for(business_a.host, "en")

    def webhook(events):
        # Committing makes routing forget the host, so the booking page follows the new status.
        with django_capture_on_commit_callbacks(execute=True):
            deliver(fake_stripe, *events)

    # The owner picks Professional, yearly, and is sent to Stripe's Checkout page.
    response = owner.post("/billing/checkout/", {"plan": "professional", "interval": "year"})
    assert response.status_code == 303
    session_id = response["Location"].rsplit("/", 1)[1]
    assert session_id in fake_stripe.sessions

    # They pay; Stripe sends subscription.created, invoice.paid and checkout.session.completed.
    webhook(fake_stripe.complete_checkout(session_id))
    assert status_of(business_a) == TenantStatus.ACTIVE
    sub_id = account_of(business_a).stripe_subscription_id
    page = owner.get("/billing/?checkout=success").content.decode()
    assert "Your payment has been received" in page
    assert "Professional" in page and "paid yearly" in page and "Renews on" in page
    assert booking.get("/book/").status_code == 200

    # A year later the renewal is declined: past due, with a deadline on the billing page.
    webhook(fake_stripe.fail_renewal(sub_id))
    assert status_of(business_a) == TenantStatus.PAST_DUE
    assert "Your last payment did not go through" in owner.get("/billing/").content.decode()
    assert booking.get("/book/").status_code == 200  # still open during the grace period

    # The grace period passes without payment: beat's task suspends, bookings close.
    grace_until = account_of(business_a).grace_until
    assert grace_until > timezone.now() + timedelta(days=6)
    from termino.platform.billing import services

    with django_capture_on_commit_callbacks(execute=True):
        assert services.billing_overdue_suspend(now=grace_until + timedelta(minutes=1)) == 1
    assert status_of(business_a) == TenantStatus.SUSPENDED
    closed = booking.get("/book/")
    assert closed.status_code == 403 and b"Online booking is currently not available" in closed.content

    # The owner updates the card in the portal; the open invoice is paid: active, bookings open again.
    webhook(fake_stripe.pay_open_invoice(sub_id))
    assert status_of(business_a) == TenantStatus.ACTIVE
    assert account_of(business_a).grace_until is None
    assert booking.get("/book/").status_code == 200
    assert tasks.suspend_overdue() == 0

    trail = list(
        StatusChange.objects.filter(tenant=business_a.tenant)
        .order_by("id")
        .values_list("old_status", "new_status")
    )
    assert trail == [
        ("trial", "active"),
        ("active", "past_due"),
        ("past_due", "suspended"),
        ("suspended", "active"),
    ]
    assert StripeEvent.objects.filter(tenant=business_a.tenant).count() == 7
