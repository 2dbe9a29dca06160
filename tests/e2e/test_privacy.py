"""A customer asks for their data on the booking page, confirms through the e-mailed link and downloads
it; then the owner erases that customer in the backoffice, and the appointment stays without a name."""

import json
import re

import pytest
from django.core import mail
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from termino.tenants.crm.models import Customer
from termino.tenants.scheduling.models import Appointment
from tests.conftest import PASSWORD, unique_slug
from tests.tenants.crm.factories import appointment, consent, customer

from .conftest import DESKTOP, PHONE, screenshot

pytestmark = pytest.mark.browser

LINK = re.compile(r"https?://\S+/book/privacy/[\w-]+/")


def log_in(page, base, business):
    page.goto(f"{base}/login/")
    page.get_by_label("E-mail").fill(business.owner_username)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(f"{base}/")


def test_customer_gets_their_data_then_the_owner_erases_them(live_site, browser, tmp_path):
    business = live_site["provision"](unique_slug())
    base = f"http://{business.host}:{live_site['port']}"
    with schema_context(business.schema):
        anna = customer("Müller", "Anna", email="anna@example.com", phone="+491712345678", tags=["vip"])
        consent(anna, "privacy", True)
        booked = appointment(anna, days=-7, status="completed")
    mail.outbox.clear()

    # --- The customer, on a phone -----------------------------------------------------------------------
    phone = browser.new_context(locale="en-GB", **PHONE)
    page = phone.new_page()
    try:
        page.goto(f"{base}/book/")
        page.get_by_role("link", name="Your data").click()
        page.wait_for_url(f"{base}/book/privacy/")
        page.get_by_label("Your e-mail address").fill("Anna@Example.com")
        page.get_by_label("Send me a copy of my data (access and portability)").check()
        screenshot(page, "privacy-1-request-phone")
        page.get_by_role("button", name="Send request").click()
        page.wait_for_url(f"{base}/book/privacy/sent/")
        expect(page.get_by_text("If we know this e-mail address")).to_be_visible()

        assert len(mail.outbox) == 1 and mail.outbox[0].to == ["anna@example.com"]
        link = LINK.search(mail.outbox[0].body)[0]
        assert link.startswith(base)
        page.goto(link)
        screenshot(page, "privacy-2-confirm-phone")
        page.get_by_role("button", name="Yes, this request is from me").click()
        expect(page.get_by_text("Thank you, your request is confirmed.")).to_be_visible()
        with page.expect_download() as info:
            page.get_by_role("link", name="Download my data (JSON)").click()
        path = tmp_path / "data.json"
        info.value.save_as(path)
        data = json.loads(path.read_text(encoding="utf-8"))
        (mine,) = data["customers"]
        assert mine["customer"]["last_name"] == "Müller" and mine["customer"]["tags"] == ["vip"]
        assert [a["id"] for a in mine["appointments"]] == [booked.pk]
        screenshot(page, "privacy-3-confirmed-phone")
    finally:
        phone.close()

    # --- The owner erases the customer ------------------------------------------------------------------
    desktop = browser.new_context(locale="en-GB", **DESKTOP)
    page = desktop.new_page()
    try:
        log_in(page, base, business)
        page.goto(f"{base}/customers/{anna.pk}/")
        privacy = page.locator("#privacy")
        expect(privacy.get_by_role("link", name="Export JSON")).to_be_visible()
        screenshot(page, "privacy-4-customer-card")
        privacy.get_by_role("link", name="Erase customer data").click()
        page.wait_for_url(f"{base}/privacy/customers/{anna.pk}/erase/")
        expect(page.get_by_text("Appointments: 1, with service")).to_be_visible()
        page.get_by_label("Type the customer's name to confirm").fill("Anna Mueller")
        page.get_by_role("button", name="Erase for good").click()
        expect(page.get_by_text("The name does not match. Nothing was erased.")).to_be_visible()
        page.get_by_label("Type the customer's name to confirm").fill("Anna Müller")
        screenshot(page, "privacy-5-erase-confirm")
        page.get_by_role("button", name="Erase for good").click()
        page.wait_for_url(f"{base}/customers/")
        expect(page.get_by_text("Appointments kept without a name: 1")).to_be_visible()
        assert "Müller" not in page.locator("#cust-results").inner_text()

        page.goto(f"{base}/privacy/log/")
        log = page.locator("table.privacy-log").inner_text()
        assert f"Erased customer no. {anna.pk}" in log and "Müller" not in log
        screenshot(page, "privacy-6-audit-trail")
        page.goto(f"{base}/privacy/requests/?tab=closed")
        expect(page.get_by_text("Downloaded by the customer through the confirmed link.")).to_be_visible()
        screenshot(page, "privacy-7-requests-done")
        page.goto(f"{base}/privacy/business/close/")
        screenshot(page, "privacy-8-close-account")
    finally:
        desktop.close()

    with schema_context(business.schema):
        assert not Customer.objects.filter(pk=anna.pk).exists()
        kept = Appointment.objects.get(pk=booked.pk)
        assert kept.customer_id is None and kept.status == "completed"
