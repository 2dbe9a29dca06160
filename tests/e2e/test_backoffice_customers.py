"""The owner imports customers from a spreadsheet export with some bad rows, checks the preview, imports,
and finds the customers in the list (search as you type); the list also works on a phone."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from termino.tenants.crm.models import Customer
from tests.conftest import PASSWORD, unique_slug
from tests.tenants.crm.factories import appointment, consent, message, note

from .conftest import DESKTOP, PHONE, screenshot

pytestmark = pytest.mark.browser

# As Excel in Germany saves "CSV (Trennzeichen-getrennt)": Windows-1252 and semicolons.
SPREADSHEET = (
    "Vorname;Nachname;E-Mail;Telefon;Notizen;Tags\r\n"
    "Jörg;Weiß;joerg.weiss@example.com;0171 2345678;Kommt samstags;VIP\r\n"
    "Anna;Müller;anna@example;030 1234567;;\r\n"
    "Ben;;ben@example.com;;;\r\n"
    "Carla;Schäfer;carla@example.com;+43 664 1234567;;farbe, vip\r\n"
    "Dora;Groß;;12;;\r\n"
    "Emil;Öztürk;emil@example.com;;Allergie: Ammoniak;\r\n"
)


def log_in(page, base, business):
    page.goto(f"{base}/login/")
    page.get_by_label("E-mail").fill(business.owner_username)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(f"{base}/")


def test_import_with_bad_rows_then_find_the_customers(live_site, browser, tmp_path):
    business = live_site["provision"](unique_slug())
    base = f"http://{business.host}:{live_site['port']}"
    csv_file = tmp_path / "kunden.csv"
    csv_file.write_bytes(SPREADSHEET.encode("cp1252"))

    context = browser.new_context(locale="en-GB", **DESKTOP)
    page = context.new_page()
    try:
        log_in(page, base, business)
        page.get_by_role("link", name="Customers", exact=True).click()
        page.wait_for_url(f"{base}/customers/")
        page.get_by_role("link", name="Import", exact=True).click()
        page.wait_for_url(f"{base}/customers/import/")
        page.get_by_label("CSV file").set_input_files(str(csv_file))
        screenshot(page, "customers-1-import-upload")
        page.get_by_role("button", name="Check file").click()
        page.wait_for_url(re.compile(rf"{re.escape(base)}/customers/import/[\w-]+/$"))

        # Every row with its number and result; errors next to the cell they belong to.
        expect(page.locator("#row-2").get_by_text("Will be imported")).to_be_visible()
        expect(page.locator("#row-3").get_by_text("Please enter a valid e-mail address.")).to_be_visible()
        expect(page.locator("#row-4").get_by_text("Please enter the last name.")).to_be_visible()
        expect(
            page.locator("#row-6").get_by_text("This does not look like a valid phone number.")
        ).to_be_visible()
        expect(page.locator("#row-5").get_by_text("Will be imported")).to_be_visible()
        assert "Weiß" in page.locator("#row-2").inner_text()  # Windows-1252 read correctly
        screenshot(page, "customers-2-import-preview")
        with schema_context(business.schema):
            assert not Customer.objects.exists()

        page.get_by_role("button", name="Import new customers (3)").click()
        page.wait_for_url(f"{base}/customers/")
        expect(page.get_by_text("Import finished. New customers: 3. Rows not imported: 3.")).to_be_visible()
        rows = page.locator("#cust-results tbody tr")
        assert rows.count() == 3
        listed = rows.all_inner_texts()
        assert any("Weiß, Jörg" in r and "0171 2345678" in r for r in listed)
        assert any("Schäfer, Carla" in r and "+43 664 1234567" in r for r in listed)
        assert any("Öztürk, Emil" in r for r in listed)
        screenshot(page, "customers-3-list-after-import")

        # Search as you type: the table changes without a page load, the address follows.
        page.get_by_label("Search customers").press_sequentially("0171 23", delay=30)
        expect(page.locator("#cust-results tbody tr")).to_have_count(1)
        assert "Weiß, Jörg" in rows.first.inner_text()
        assert page.url.endswith("/customers/?q=0171+23")
        page.get_by_label("Search customers").fill("")
        page.get_by_label("Tag").select_option("vip")
        expect(page.locator("#cust-results tbody tr")).to_have_count(2)
        screenshot(page, "customers-4-list-filtered")

        page.get_by_role("link", name="Weiß, Jörg").click()
        page.wait_for_url(re.compile(rf"{re.escape(base)}/customers/\d+/$"))
        page.get_by_label("New note").fill("Möchte immer zu Lena.")
        page.get_by_role("button", name="Add note").click()
        expect(page.get_by_text("Möchte immer zu Lena.")).to_be_visible()
        screenshot(page, "customers-5-detail-desktop")
    finally:
        context.close()


def test_customer_list_and_detail_on_a_phone(live_site, browser):
    business = live_site["provision"](unique_slug())
    base = f"http://{business.host}:{live_site['port']}"
    with schema_context(business.schema):
        people = Customer.objects.bulk_create(
            [
                Customer(
                    first_name="Jörg",
                    last_name="Weiß",
                    phone="+491712345678",
                    email="joerg@example.com",
                    tags=["vip"],
                ),
                Customer(
                    first_name="Carla",
                    last_name="Schäfer-Lüdenscheidt",
                    phone="+436641234567",
                    email="carla.schaefer-luedenscheidt@example.com",
                    tags=["farbe", "vip"],
                ),
                Customer(first_name="Emil", last_name="Öztürk"),
            ]
        )
        joerg = people[0]
        appointment(joerg, days=-14, status="no_show")
        appointment(joerg, days=-7, status="completed")
        appointment(joerg, days=3)
        note(joerg, "Kommt samstags.")
        consent(joerg, "privacy", True)
        consent(joerg, "sms_reminders", True)
        sent = message(joerg, status="delivered")
        sent.due_at = timezone.now() - timedelta(days=7)
        sent.save()

    context = browser.new_context(locale="de-DE", **PHONE)
    page = context.new_page()
    try:
        page.goto(f"{base}/login/")
        page.locator("#id_username").fill(business.owner_username)
        page.locator("#id_password").fill(PASSWORD)
        page.locator("form button[type=submit]").last.click()
        page.wait_for_url(f"{base}/")
        page.goto(f"{base}/customers/")
        assert page.locator("#cust-results tbody tr").count() == 3
        # Nothing wider than the phone: rows become cards instead of a sideways-scrolling table.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(page, "customers-list-phone")
        page.goto(f"{base}/customers/{joerg.pk}/")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(page, "customers-detail-phone")
    finally:
        context.close()
