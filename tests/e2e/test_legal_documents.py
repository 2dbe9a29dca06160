"""The legal documents in a real browser, on a desktop and on a phone: the platform's privacy notice, the
owner accepting the AV contract and downloading it, the record of processing activities, the booking page's
notice in the legal settings and on the booking page, and the staff's legal page. No page scrolls sideways
on a 390px phone."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from termino.platform.legal import services
from termino.platform.legal.models import Category, DpaAcceptance, Operator, SubProcessor
from tests.conftest import PASSWORD, password_hash, unique_slug

from .conftest import DESKTOP, PHONE, screenshot
from .test_staffadmin import _code

pytestmark = pytest.mark.browser


WIDEST = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > 392)
  .filter(e => !e.closest('nav.sections')).slice(0, 8)
  .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""


def no_sideways_scrolling(page, what: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{what} is {width}px wide on a 390px phone: {page.evaluate(WIDEST)}"


@pytest.fixture
def operator(live_site):
    Operator.objects.update_or_create(
        id=1,
        defaults={
            "name": "Termino Betrieb GmbH",
            "street": "Musterweg 3",
            "postcode": "10115",
            "city": "Berlin",
            "country": "Deutschland",
            "email": "datenschutz@termino.example",
            "dpo_status": "none",
            "authority_name": "Berliner Beauftragte für Datenschutz und Informationsfreiheit",
            "authority_address": "Alt-Moabit 59-61, 10555 Berlin",
            "hosting_location": "Rechenzentrum in Frankfurt am Main",
            "backups": "Täglich verschlüsselt, 30 Tage aufbewahrt",
        },
    )
    provider = SubProcessor.objects.create(
        name="Example Hosting GmbH",
        address="Serverstraße 1, 60313 Frankfurt am Main",
        category=Category.HOSTING,
        purpose="Servers and database",
        location="Germany",
        active_from=services.legal_today() - timedelta(days=30),
    )
    yield
    DpaAcceptance.objects.all().delete()
    provider.delete()
    Operator.objects.filter(id=1).delete()


def test_the_privacy_notice_on_desktop_and_phone(live_site, browser, operator):
    base = live_site["url"]
    for device, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        for locale, heading in (("de-DE", "Datenschutzerklärung"), ("en-GB", "Privacy notice")):
            context = browser.new_context(locale=locale, **device)
            page = context.new_page()
            try:
                page.goto(f"{base}/datenschutz/")
                expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
                expect(page.locator("#cookies table")).to_be_visible()
                assert page.locator("footer a[href$='/datenschutz/']").count() == 1
                if name == "phone":
                    no_sideways_scrolling(page, "the privacy notice")
                screenshot(page, f"legal-privacy-notice-{locale[:2]}-{name}")
            finally:
                context.close()


def test_the_owner_accepts_and_downloads_the_av_contract(live_site, browser, operator):
    business = live_site["provision"](unique_slug(), company_name="Salon Sonnenschein")
    base = f"http://{business.host}:{live_site['port']}"
    context = browser.new_context(locale="en-GB", accept_downloads=True, **DESKTOP)
    page = context.new_page()
    try:
        page.goto(f"{base}/login/")
        page.fill("#id_username", business.owner_username)
        page.fill("#id_password", business.password)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{base}/")
        page.get_by_role("link", name="Data protection").click()
        page.wait_for_url(f"{base}/data-protection/")
        expect(page.get_by_text("Not accepted yet.")).to_be_visible()
        screenshot(page, "legal-dataprotection-index-desktop")
        page.get_by_role("link", name="Read and accept").click()
        page.wait_for_url(f"{base}/data-protection/dpa/")
        expect(page.get_by_text("Annex 1: Sub-processors").first).to_be_visible()
        screenshot(page, "legal-dpa-desktop")
        page.get_by_role("button", name="Accept version").click()
        page.get_by_text("Thank you. You have accepted version").wait_for()
        expect(page.get_by_text("accepted by Erika Mustermann")).to_be_visible()
        with page.expect_download() as download:
            page.get_by_role("link", name="Download PDF").click()
        assert download.value.suggested_filename.endswith("-en.pdf")
        assert Path(download.value.path()).read_bytes()[:5] == b"%PDF-"
        screenshot(page, "legal-dpa-accepted-desktop")

        page.goto(f"{base}/data-protection/record/")
        title = "Record of processing activities of Salon Sonnenschein"
        expect(page.get_by_role("heading", name=title)).to_be_visible()
        screenshot(page, "legal-record-desktop")

        page.goto(f"{base}/settings/legal/")
        expect(page.get_by_text("Please read the notice generated from your settings")).to_be_visible()
        page.get_by_role("button", name="Accept this notice").click()
        page.get_by_text("Generated from your settings and accepted by Erika Mustermann").wait_for()
        screenshot(page, "legal-settings-notice-desktop")
    finally:
        context.close()
    assert DpaAcceptance.objects.filter(tenant_id=business.tenant.pk).count() == 1

    phone = browser.new_context(locale="de-DE", **PHONE)
    page = phone.new_page()
    try:
        page.goto(f"{base}/login/")
        page.fill("#id_username", business.owner_username)
        page.fill("#id_password", business.password)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{base}/")
        for path, name in (
            ("/data-protection/", "index"),
            ("/data-protection/dpa/", "dpa"),
            ("/data-protection/record/", "record"),
            ("/settings/legal/", "settings-notice"),
        ):
            page.goto(f"{base}{path}")
            no_sideways_scrolling(page, path)
            screenshot(page, f"legal-{name}-phone")
        page.goto(f"{base}/book/")
        page.locator("#bk-privacy summary").click()
        expect(page.get_by_text("Datenschutzerklärung von Salon Sonnenschein")).to_be_visible()
        no_sideways_scrolling(page, "the booking page with its notice open")
        screenshot(page, "legal-booking-notice-phone")
    finally:
        phone.close()


@pytest.fixture
def staff_user(live_site):
    user = get_user_model().objects.create(
        username=f"{unique_slug('ops')}@termino.example",
        first_name="Petra",
        last_name="Platt",
        is_staff=True,
        password=password_hash(),
    )
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    yield user, device
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("DELETE FROM staffadmin_staffaction WHERE staff_id = %s", [user.pk])
    TOTPDevice.objects.filter(user=user).delete()
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)


def test_the_staff_legal_page(live_site, browser, staff_user, operator):
    user, device = staff_user
    base = live_site["url"]
    for device_options, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        context = browser.new_context(locale="en-GB", **device_options)
        page = context.new_page()
        try:
            page.goto(f"{base}/staff/login/")
            page.get_by_label("Login name").fill(user.username)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Continue").click()
            page.wait_for_url(f"{base}/staff/login/code/")
            TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1, drift=0)
            page.get_by_label("Code from your authenticator app").fill(_code(device))
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{base}/staff/")
            page.get_by_role("link", name="Legal texts").click()
            page.wait_for_url(f"{base}/staff/legal/")
            expect(page.get_by_role("heading", name="Operator and contact")).to_be_visible()
            expect(page.get_by_text("Example Hosting GmbH").first).to_be_visible()
            if name == "phone":
                no_sideways_scrolling(page, "the staff legal page")
            screenshot(page, f"legal-staff-{name}")
        finally:
            context.close()
