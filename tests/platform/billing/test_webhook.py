"""The webhook endpoint: only events signed by Stripe get in, each is applied once, in a safe order."""

import json
import time

import pytest
from django.conf import settings

from termino.platform.billing.models import StatusChange, StripeEvent
from termino.platform.tenancy.models import TenantStatus
from tests.conftest import client_for

from .conftest import WEBHOOK_SECRET, account_of, deliver, status_of, subscribe
from .fake_stripe import sign

pytestmark = pytest.mark.django_db


def post(body: bytes, signature: str | None):
    headers = {"HTTP_STRIPE_SIGNATURE": signature} if signature is not None else {}
    return client_for(settings.BASE_DOMAIN).post(
        "/billing/webhook/", data=body, content_type="application/json", **headers
    )


@pytest.fixture
def failed_payment(business_a, fake_stripe):
    """A subscribed business and the (undelivered) events of a failed renewal."""
    sub_id = subscribe(fake_stripe, business_a)
    return fake_stripe.fail_renewal(sub_id)


def _nothing_changed(business, events_before: int):
    assert StripeEvent.objects.count() == events_before
    assert status_of(business) == TenantStatus.ACTIVE


@pytest.mark.parametrize(
    "case",
    [
        "forged",
        "stale",
        "future",
        "unsigned",
        "empty",
        "tampered",
        "malformed",
        "wrong_scheme",
        "other_secret",
    ],
)
def test_unverifiable_webhooks_are_refused_and_change_nothing(business_a, fake_stripe, failed_payment, case):
    before = StripeEvent.objects.count()
    event = failed_payment[0]
    body = json.dumps(event).encode()
    now = int(time.time())
    signature = {
        "forged": sign(body, "whsec_not_the_secret"),
        "stale": sign(body, WEBHOOK_SECRET, timestamp=now - 301),
        "unsigned": None,
        "empty": "",
        "tampered": sign(body.replace(b"invoice.payment_failed", b"invoice.paid"), WEBHOOK_SECRET),
        "malformed": "v1=deadbeef",
        "wrong_scheme": sign(body, WEBHOOK_SECRET).replace("v1=", "v0="),
        "future": sign(body, WEBHOOK_SECRET, timestamp=now + 301),
        "other_secret": sign(body, WEBHOOK_SECRET + "x", timestamp=now),
    }[case]
    response = post(body, signature)
    assert response.status_code == 400
    _nothing_changed(business_a, before)


def test_a_signature_just_inside_the_tolerance_is_accepted(business_a, fake_stripe, failed_payment):
    body = json.dumps(failed_payment[0]).encode()
    response = post(body, sign(body, WEBHOOK_SECRET, timestamp=int(time.time()) - 290))
    assert response.status_code == 200
    assert status_of(business_a) == TenantStatus.PAST_DUE


def test_signed_garbage_is_refused(fake_stripe):
    for body in (b"not json", b"[1, 2]", json.dumps({"id": "evt_1", "object": "charge"}).encode()):
        assert post(body, sign(body, WEBHOOK_SECRET)).status_code == 400
    assert StripeEvent.objects.count() == 0


def test_without_a_configured_secret_nothing_gets_in(business_a, fake_stripe, failed_payment, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    body = json.dumps(failed_payment[0]).encode()
    assert post(body, sign(body, "")).status_code == 400
    assert status_of(business_a) == TenantStatus.ACTIVE


def test_only_post(fake_stripe):
    assert client_for(settings.BASE_DOMAIN).get("/billing/webhook/").status_code == 405


def test_the_same_event_twice_is_applied_once(business_a, fake_stripe, failed_payment):
    changes = StatusChange.objects.filter(tenant=business_a.tenant).count()
    first = deliver(fake_stripe, failed_payment[0])
    assert first.json()["result"] == "payment failed: past due"
    grace_until = account_of(business_a).grace_until
    second = deliver(fake_stripe, failed_payment[0])
    assert second.json()["result"] == "duplicate: received before"
    assert StripeEvent.objects.filter(event_id=failed_payment[0]["id"]).count() == 1
    assert StatusChange.objects.filter(tenant=business_a.tenant).count() == changes + 1
    assert account_of(business_a).grace_until == grace_until


def test_events_are_stored_with_their_result_and_business(business_a, fake_stripe, failed_payment):
    deliver(fake_stripe, failed_payment[0])
    stored = StripeEvent.objects.get(event_id=failed_payment[0]["id"])
    assert stored.type == "invoice.payment_failed"
    assert stored.tenant_id == business_a.tenant.pk
    assert stored.processed_at is not None and stored.result == "payment failed: past due"
    assert stored.payload == failed_payment[0]


def test_unknown_event_types_are_stored_and_ignored(business_a, fake_stripe):
    event = fake_stripe.event("customer.tax_id.created", {"id": "txi_1", "object": "tax_id"})
    response = deliver(fake_stripe, event)
    assert response.json()["result"] == "ignored: event type not handled"
    assert StripeEvent.objects.get(event_id=event["id"]).type == "customer.tax_id.created"
    assert status_of(business_a) == TenantStatus.TRIAL


def test_an_older_subscription_update_arriving_late_is_ignored(business_a, fake_stripe):
    sub_id = subscribe(fake_stripe, business_a)
    sub = fake_stripe.subscriptions[sub_id]
    older = fake_stripe.event("customer.subscription.updated", {**sub, "status": "active"})
    newer = fake_stripe.event("customer.subscription.updated", {**sub, "status": "past_due"})
    deliver(fake_stripe, newer)
    assert status_of(business_a) == TenantStatus.PAST_DUE
    response = deliver(fake_stripe, older)
    assert response.json()["result"] == "ignored: older than the state already applied"
    assert status_of(business_a) == TenantStatus.PAST_DUE
    assert account_of(business_a).subscription_status == "past_due"


def test_an_older_invoice_paid_does_not_undo_a_newer_failure(business_a, fake_stripe):
    sub_id = subscribe(fake_stripe, business_a)
    sub = fake_stripe.subscriptions[sub_id]
    invoice = fake_stripe.invoices[sub["latest_invoice"]]
    old_paid = fake_stripe.event("invoice.paid", invoice)
    deliver(fake_stripe, *fake_stripe.fail_renewal(sub_id))
    assert deliver(fake_stripe, old_paid).json()["result"] == "ignored: older than the state already applied"
    assert status_of(business_a) == TenantStatus.PAST_DUE


def test_events_of_the_same_second_are_settled_by_asking_stripe(business_a, fake_stripe):
    sub_id = subscribe(fake_stripe, business_a)
    sub = fake_stripe.subscriptions[sub_id]
    second = fake_stripe.tick()
    # Stripe's current state: past due. Two events of the same second disagree; the later-delivered one
    # claims active. The same second cannot be ordered, so the fake's state decides.
    sub["status"] = "past_due"
    deliver(fake_stripe, fake_stripe.event("customer.subscription.updated", {**sub}, created=second))
    response = deliver(
        fake_stripe,
        fake_stripe.event("customer.subscription.updated", {**sub, "status": "active"}, created=second),
    )
    assert response.json()["result"].endswith("(fetched)")
    assert status_of(business_a) == TenantStatus.PAST_DUE
    assert [
        r for r in fake_stripe.requests if r["method"] == "GET" and r["path"] == f"/v1/subscriptions/{sub_id}"
    ]


def test_a_late_deletion_still_cancels(business_a, fake_stripe):
    sub_id = subscribe(fake_stripe, business_a)
    sub = fake_stripe.subscriptions[sub_id]
    deleted = fake_stripe.event("customer.subscription.deleted", {**sub, "status": "canceled"})
    deliver(fake_stripe, fake_stripe.event("customer.subscription.updated", sub))
    deliver(fake_stripe, deleted)
    assert status_of(business_a) == TenantStatus.CANCELLED


def test_events_for_no_known_business_are_acknowledged(fake_stripe):
    sub = {
        "id": "sub_nobody",
        "object": "subscription",
        "customer": "cus_nobody",
        "status": "active",
        "metadata": {},
    }
    response = deliver(fake_stripe, fake_stripe.event("customer.subscription.updated", sub))
    assert response.json()["result"] == "ignored: no business for this subscription"


def test_metadata_naming_another_business_than_the_customer_matches_nothing(
    business_a, business_b, fake_stripe
):
    subscribe(fake_stripe, business_a)
    customer_a = account_of(business_a).stripe_customer_id
    sub = {
        "id": "sub_x",
        "object": "subscription",
        "customer": customer_a,
        "status": "canceled",
        "metadata": {"tenant_id": str(business_b.tenant.pk)},
    }
    deliver(fake_stripe, fake_stripe.event("customer.subscription.deleted", sub))
    assert status_of(business_a) == TenantStatus.ACTIVE
    assert status_of(business_b) == TenantStatus.TRIAL


def test_stripe_unreachable_while_fetching_means_retry_later(business_a, fake_stripe, settings):
    sub_id = subscribe(fake_stripe, business_a)
    session_id = next(k for k, v in fake_stripe.sessions.items() if v["object"]["subscription"] == sub_id)
    completed = fake_stripe.event("checkout.session.completed", fake_stripe.sessions[session_id]["object"])
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    body, signature = fake_stripe.signed(completed)
    response = post(body, signature)
    assert response.status_code == 503
    assert not StripeEvent.objects.filter(event_id=completed["id"]).exists()  # Stripe will deliver it again
    settings.STRIPE_API_BASE = fake_stripe.base_url
    assert post(body, signature).status_code == 200
