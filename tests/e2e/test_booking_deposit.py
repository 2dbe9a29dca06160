"""A customer books a service with a deposit: pays on the (fake) Stripe Checkout page of the business's own
account, comes back to a confirmed booking that says what was paid and what cancelling means, cancels
before the cut-off and sees the refund. Inside the embed, Checkout opens in a new tab."""

import re
from datetime import time as clock

import pytest
from django.utils import translation
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from termino.tenants.payments.models import Payment, Refund, ServicePaymentRule
from termino.tenants.scheduling.models import Appointment
from tests.platform.billing.fake_stripe import FakeStripe
from tests.tenants.payments.conftest import CONNECT_SECRET, connect_business
from tests.tenants.scheduling.factories import next_monday

from .conftest import DESKTOP, PHONE, screenshot
from .test_booking_flow import fill_details, go_to_monday, open_business, texts

pytestmark = pytest.mark.browser


@pytest.fixture
def stripe_site(live_site, settings):
    fake = FakeStripe(
        api_key="sk_test_browser",
        webhook_secret="whsec_browser",
        connect_webhook_secret=CONNECT_SECRET,
        connect_webhook_url=f"http://{settings.BASE_DOMAIN}:{live_site['port']}/billing/connect/webhook/",
    ).start()
    settings.STRIPE_API_BASE = fake.base_url
    settings.STRIPE_SECRET_KEY = fake.api_key
    settings.STRIPE_WEBHOOK_SECRET = fake.webhook_secret
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = CONNECT_SECRET
    yield live_site, fake
    fake.stop()


def _deposit_business(live_site, fake):
    business, service, _staff, base = open_business(live_site)
    connect_business(fake, business)
    with schema_context(business.schema):
        ServicePaymentRule.objects.create(service=service, kind="deposit_fixed", amount_cents=2000)
    return business, service, base


def _t(lang: str, msgid: str) -> str:
    with translation.override(lang):
        return translation.gettext(msgid)


def _choose_and_fill(page, base, text, email, *, embed=False):
    page.goto(f"{base}/book/" + ("?embed=1" if embed else ""))
    page.get_by_role("button", name=re.compile("Haarschnitt")).click()
    page.get_by_role("button", name="Staff 1").click()
    go_to_monday(page, text)
    page.get_by_role("button", name="09:00", exact=True).click()
    page.get_by_label(text["first_name"], exact=True).wait_for()
    fill_details(page, text, email)
    page.get_by_role("button", name=text["submit"]).click()


@pytest.mark.clock
@pytest.mark.parametrize(("lang", "device"), [("en", DESKTOP), ("de", PHONE)], ids=["desktop-en", "phone-de"])
def test_book_with_a_deposit_pay_cancel_early_and_see_the_refund(stripe_site, browser, lang, device):
    live_site, fake = stripe_site
    business, service, base = _deposit_business(live_site, fake)
    text = texts(lang, business.tenant.name)
    context = browser.new_context(locale={"en": "en-GB", "de": "de-DE"}[lang], **device)
    page = context.new_page()
    try:
        _choose_and_fill(page, base, text, f"lena-{lang}@example.com")
        page.wait_for_url(f"{fake.base_url}/c/pay/*")
        expect(page.get_by_text("20.00 €")).to_be_visible()  # the fake Checkout page
        screenshot(page, f"deposit-1-checkout-{lang}")
        page.get_by_role("button", name="Pay").click()  # the fake sends Stripe's signed events, then returns

        page.wait_for_url(f"{base}/book/payment/**")
        page.get_by_role("heading", name=_t(lang, "Your appointment is booked")).wait_for()
        assert re.search(r"20,00\s€", page.locator("[data-part=paid]").inner_text())
        expect(page.locator("[data-part=policy]")).to_be_visible()
        screenshot(page, f"deposit-2-booked-{lang}")

        page.get_by_role("link", name=text["manage"]).click()
        page.get_by_role("button", name=text["cancel"]).click()
        page.get_by_role("button", name=text["cancel_yes"]).click()
        page.locator("[data-part=message]").get_by_text(text["cancelled"]).wait_for()
        page.reload()
        payments = page.locator("[data-part=payments]")
        payments.get_by_text(_t(lang, "Refunded")).wait_for()
        assert len(re.findall(r"20,00\s€", payments.inner_text())) == 2  # paid, and refunded
        screenshot(page, f"deposit-3-refunded-{lang}")
    finally:
        context.close()

    with schema_context(business.schema):
        appointment = Appointment.objects.get(service=service)
        assert (appointment.status, appointment.start) == ("cancelled", next_monday(clock(9)))
        payment = Payment.objects.get()
        assert (payment.status, payment.amount_cents, payment.refunded_cents) == ("succeeded", 2000, 2000)
        assert Refund.objects.get().status == "succeeded"
    assert [r["params"]["amount"] for r in fake.requests if r["path"] == "/v1/refunds"] == ["2000"]


def test_inside_the_embed_checkout_opens_in_a_new_tab(stripe_site, browser):
    live_site, fake = stripe_site
    business, service, base = _deposit_business(live_site, fake)
    text = texts("en", business.tenant.name)
    context = browser.new_context(locale="en-GB", **DESKTOP)
    page = context.new_page()
    try:
        _choose_and_fill(page, base, text, "embed@example.com", embed=True)
        page.wait_for_url(re.compile(r".*/book/payment/[^/]+/\?embed=1$"))
        page.get_by_role("heading", name="Waiting for your payment").wait_for()
        with context.expect_page() as opened:
            page.get_by_role("link", name="Pay now").click()
        checkout = opened.value
        checkout.wait_for_url(f"{fake.base_url}/c/pay/*")
        checkout.get_by_role("button", name="Pay").click()
        checkout.wait_for_url(f"{base}/book/payment/**")
        # The frame's page asks by itself and shows the booking once paid.
        page.get_by_role("heading", name="Your appointment is booked").wait_for(timeout=20000)
        screenshot(page, "deposit-4-embedded-paid")
    finally:
        context.close()
    with schema_context(business.schema):
        assert Appointment.objects.get(service=service).status == "confirmed"


def test_a_no_show_s_card_on_file_fee_is_charged_by_the_team(stripe_site, browser):
    from tests.e2e.test_billing import _log_in

    live_site, fake = stripe_site
    business, service, base = _deposit_business(live_site, fake)
    with schema_context(business.schema):
        ServicePaymentRule.objects.filter(service=service).update(kind="card_on_file", amount_cents=3000)
    text = texts("en", business.tenant.name)
    context = browser.new_context(locale="en-GB", **DESKTOP)
    page = context.new_page()
    try:
        _choose_and_fill(page, base, text, "card@example.com")
        page.wait_for_url(f"{fake.base_url}/c/pay/*")
        page.get_by_role("button", name="Save card").click()
        page.wait_for_url(f"{base}/book/payment/**")
        page.get_by_role("heading", name="Your appointment is booked").wait_for()
        assert "charge 30,00" in page.locator("[data-part=policy]").inner_text().replace("\xa0", " ")
        with schema_context(business.schema):
            appointment = Appointment.objects.get(service=service)
            Appointment.objects.filter(pk=appointment.pk).update(
                status="no_show"
            )  # the customer did not come

        _log_in(page, base, business)
        page.goto(f"{base}/payments/appointments/{appointment.pk}/")
        page.get_by_role("button", name="Charge fee").click()  # not confirmed yet: refused
        page.get_by_label("Yes, charge the fee to the customer's card").check()
        screenshot(page, "deposit-5-fee-confirm")
        page.get_by_role("button", name="Charge fee").click()
        page.get_by_text("The fee has been charged to the customer's card.").wait_for()
        page.get_by_text("The fee has been charged already.").wait_for()
        screenshot(page, "deposit-6-fee-charged")
        page.goto(f"{base}/payments/")
        expect(
            page.locator("[data-payments]").get_by_text("No-show or late cancellation fee")
        ).to_be_visible()
    finally:
        context.close()
    with schema_context(business.schema):
        fee = Payment.objects.get(kind="fee")
        assert (fee.status, fee.amount_cents) == ("succeeded", 3000)
