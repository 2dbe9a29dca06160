"""Extra SMS packs: a one-off Checkout payment credits the pack once, however often Stripe reports it."""

import pytest

from termino.platform.billing import services
from termino.platform.billing.models import SmsPackPurchase
from termino.platform.billing.packs import sms_pack
from termino.platform.tenancy.models import TenantStatus

from .conftest import account_of, deliver, status_of, subscribe

pytestmark = pytest.mark.django_db


def _buy(fake, business, code="sms-500"):
    page = services.sms_pack_checkout_start(tenant=business.tenant, pack=sms_pack(code))
    return page, fake.sessions[page.id]


def test_checkout_asks_for_a_one_off_payment_with_an_invoice(business_a, fake_stripe):
    page, stored = _buy(fake_stripe, business_a)
    params = stored["params"]
    assert params["mode"] == "payment"
    assert params["line_items"][0]["price_data"]["unit_amount"] == "3900"
    assert params["metadata"] == {
        "tenant_id": str(business_a.tenant.pk),
        "kind": "sms_pack",
        "pack": "sms-500",
        "sms": "500",
    }
    assert params["invoice_creation"] == {"enabled": "true"}
    assert page.url.startswith(fake_stripe.base_url)


def test_a_paid_pack_is_credited_once(business_a, fake_stripe):
    page, _stored = _buy(fake_stripe, business_a)
    (completed,) = fake_stripe.complete_checkout(page.id)
    assert deliver(fake_stripe, completed).json()["result"] == "500 SMS credited"
    assert account_of(business_a).extra_sms_credits == 500

    deliver(fake_stripe, completed)  # the same event again
    # The same session reported by another event (asynchronous payment confirmed)
    again = fake_stripe.event("checkout.session.async_payment_succeeded", completed["data"]["object"])
    assert deliver(fake_stripe, again).json()["result"] == "ignored: SMS pack credited already"
    assert account_of(business_a).extra_sms_credits == 500
    purchase = SmsPackPurchase.objects.get(account__tenant=business_a.tenant)
    assert (purchase.sms, purchase.amount_cents, purchase.pack) == (500, 3900, "sms-500")


def test_two_packs_add_up(business_a, fake_stripe):
    for code in ("sms-100", "sms-2000"):
        page, _stored = _buy(fake_stripe, business_a, code)
        deliver(fake_stripe, *fake_stripe.complete_checkout(page.id))
    assert account_of(business_a).extra_sms_credits == 2100


def test_an_unpaid_session_credits_nothing(business_a, fake_stripe):
    _page, stored = _buy(fake_stripe, business_a)
    session = {**stored["object"], "status": "complete", "payment_status": "unpaid"}
    assert deliver(fake_stripe, fake_stripe.event("checkout.session.completed", session)).json()[
        "result"
    ] == ("ignored: SMS pack not paid yet")
    assert account_of(business_a).extra_sms_credits == 0


def test_the_invoice_of_a_pack_does_not_touch_the_subscription(business_a, fake_stripe):
    invoice = {"id": "in_pack", "object": "invoice", "customer": "cus_x", "parent": None, "status": "paid"}
    response = deliver(fake_stripe, fake_stripe.event("invoice.paid", invoice))
    assert response.json()["result"] == "ignored: not a subscription invoice"
    assert status_of(business_a) == TenantStatus.TRIAL


def test_a_closed_business_cannot_buy_sms(business_a, fake_stripe):
    from termino.shared.errors import InvalidRequest

    sub_id = subscribe(fake_stripe, business_a)
    deliver(fake_stripe, *fake_stripe.end_subscription(sub_id))
    with pytest.raises(InvalidRequest):
        _buy(fake_stripe, business_a)
