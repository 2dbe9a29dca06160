"""The owner of a business in its trial opens the billing page, subscribes through (fake) Stripe Checkout,
and comes back to an active plan; the page on a phone; the Billing Portal round trip."""

import pytest
from playwright.sync_api import expect

from termino.platform.billing.models import BillingAccount
from termino.platform.tenancy.models import Tenant
from tests.conftest import PASSWORD, unique_slug
from tests.platform.billing.fake_stripe import FakeStripe

from .conftest import DESKTOP, PHONE, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def stripe_site(live_site, settings):
    fake = FakeStripe(
        api_key="sk_test_browser",
        webhook_secret="whsec_browser",
        webhook_url=f"http://{settings.BASE_DOMAIN}:{live_site['port']}/billing/webhook/",
    ).start()
    settings.STRIPE_API_BASE = fake.base_url
    settings.STRIPE_SECRET_KEY = fake.api_key
    settings.STRIPE_WEBHOOK_SECRET = fake.webhook_secret
    yield live_site, fake
    fake.stop()


def _log_in(page, base, business):
    page.goto(f"{base}/login/")
    page.get_by_label("E-mail").fill(business.owner_username)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(f"{base}/")


def test_owner_subscribes_through_checkout_and_returns_to_an_active_plan(stripe_site, browser):
    live_site, fake = stripe_site
    business = live_site["provision"](unique_slug())
    base = f"http://{business.host}:{live_site['port']}"

    context = browser.new_context(locale="en-GB", **DESKTOP)
    page = context.new_page()
    try:
        _log_in(page, base, business)
        page.goto(f"{base}/billing/")
        expect(page.get_by_role("heading", name="Plan and billing")).to_be_visible()
        expect(page.get_by_text("Days left in your trial")).to_be_visible()
        screenshot(page, "billing-1-trial-desktop")

        plan = page.locator("article.plan", has=page.get_by_role("heading", name="Professional"))
        plan.get_by_label("yearly").check()
        plan.get_by_role("button", name="Choose Professional").click()
        page.wait_for_url(f"{fake.base_url}/c/pay/*")
        expect(page.get_by_text("390.00 €")).to_be_visible()
        page.get_by_role("button", name="Pay").click()  # the fake delivers Stripe's webhooks, then returns

        page.wait_for_url(f"{base}/billing/?checkout=success")
        expect(page.get_by_text("Thank you! Your payment has been received.")).to_be_visible()
        expect(page.locator(".badge-ok", has_text="Active")).to_be_visible()
        expect(page.get_by_text("paid yearly")).to_be_visible()
        expect(page.get_by_role("button", name="Switch to monthly payment")).to_be_visible()
        screenshot(page, "billing-2-active-desktop")

        page.get_by_role("button", name="Manage payment, invoices, cancellation").click()
        page.wait_for_url(f"{fake.base_url}/p/session/*")
        page.get_by_role("link", name="Return").click()
        page.wait_for_url(f"{base}/billing/")
    finally:
        context.close()

    assert Tenant.objects.get(pk=business.tenant.pk).status == "active"
    account = BillingAccount.objects.get(tenant=business.tenant)
    assert (account.plan.code, account.interval, account.subscription_status) == (
        "professional",
        "year",
        "active",
    )

    phone = browser.new_context(locale="de-DE", **PHONE)
    page = phone.new_page()
    try:
        page.goto(f"{base}/login/")
        page.locator("input[name=username]").fill(business.owner_username)
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("form button[type=submit]").last.click()
        page.wait_for_url(f"{base}/")
        page.goto(f"{base}/billing/")
        # Nothing wider than the phone's screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(page, "billing-3-active-phone")
    finally:
        phone.close()
