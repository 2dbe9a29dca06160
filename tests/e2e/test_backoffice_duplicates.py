"""A booking with a known phone number but another address: the owner finds the pair under "Likely
duplicates", sees what a merge would fill in, keeps one pair apart and merges another (desktop and phone)."""

from datetime import timedelta

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from termino.tenants.crm.models import Customer, DuplicateSuspicion
from tests.conftest import unique_slug
from tests.tenants.booking.public_helpers import booking_body, public_post
from tests.tenants.scheduling.factories import next_monday, salon

from .conftest import DESKTOP, PHONE, screenshot
from .test_backoffice_customers import log_in

pytestmark = pytest.mark.browser


def test_the_owner_decides_on_likely_duplicates(live_site, browser):
    business = live_site["provision"](unique_slug())
    base = f"http://{business.host}:{live_site['port']}"
    with schema_context(business.schema):
        service, _staff, _room = salon()
        vera = Customer.objects.create(first_name="Vera", last_name="Opfermann", phone="+491701234567")
        jonas = Customer.objects.create(first_name="Jonas", last_name="Berg", email="jonas@example.com")
    for hours, overrides in (
        (0, {"first_name": "Mallory", "last_name": "Angreifer", "email": "mallory@example.com"}),
        (
            2,
            {
                "first_name": "Jonas",
                "last_name": "Berg",
                "email": "jonas@example.com",
                "phone": "0171 5550000",
            },
        ),
    ):
        body = booking_body(service, next_monday() + timedelta(hours=hours), **overrides)
        assert public_post(business.host, "bookings/", body).status_code == 201

    on_phone = browser.new_context(locale="en-GB", **PHONE)
    page = on_phone.new_page()
    try:
        log_in(page, base, business)
        page.goto(f"{base}/customers/duplicates/")
        assert page.locator(".dup-pair").count() == 2
        screenshot(page, "customers-duplicates-0-phone")
    finally:
        on_phone.close()

    context = browser.new_context(locale="en-GB", **DESKTOP)
    page = context.new_page()
    try:
        log_in(page, base, business)
        page.goto(f"{base}/customers/")
        page.get_by_role("link", name="Likely duplicates (2)").click()
        page.wait_for_url(f"{base}/customers/duplicates/")
        pairs = page.locator(".dup-pair")
        assert pairs.count() == 2
        mallory = pairs.filter(has_text="Angreifer")
        assert "Same phone number" in mallory.inner_text()
        assert (
            "Merging into the older entry fills in there: E-mail: mallory@example.com" in mallory.inner_text()
        )
        screenshot(page, "customers-duplicates-1-list")

        mallory.get_by_role("button", name="Not the same person").click()
        page.wait_for_url(f"{base}/customers/duplicates/")
        expect(page.get_by_text("Vera Opfermann and Mallory Angreifer are kept apart.")).to_be_visible()

        page.once("dialog", lambda dialog: dialog.accept())
        page.locator(".dup-pair").filter(has_text="Berg").get_by_role(
            "button", name="Merge into the older entry"
        ).click()
        page.wait_for_url(f"{base}/customers/duplicates/")
        expect(page.get_by_text("Customers merged. All records are now with Jonas Berg.")).to_be_visible()
        expect(page.get_by_text("No likely duplicates. Nothing to decide.")).to_be_visible()
        screenshot(page, "customers-duplicates-2-done")
    finally:
        context.close()

    with schema_context(business.schema):
        vera.refresh_from_db()
        assert (vera.email, vera.phone) == ("", "+491701234567")
        kept = Customer.objects.get(pk=jonas.pk)
        assert kept.phone == "+491715550000" and Customer.objects.filter(last_name="Berg").count() == 1
        (pair,) = DuplicateSuspicion.objects.all()
        assert pair.dismissed_at is not None
