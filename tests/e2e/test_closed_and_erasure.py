"""A closed business in a browser: customers read that online booking is not available, the owner reads why
and what to do (billing, or support when platform staff suspended it); and erasing a customer who still has
an appointment to come offers to cancel it first."""

import pytest
from django_tenants.utils import schema_context

from termino.platform.billing import services as billing
from termino.platform.tenancy.models import TenantStatus
from termino.tenants.crm.models import Customer
from termino.tenants.scheduling import services as scheduling
from termino.tenants.scheduling.models import Appointment
from tests.conftest import PASSWORD, unique_slug
from tests.tenants.scheduling.factories import next_monday, salon

from .conftest import DESKTOP, PHONE, screenshot

pytestmark = pytest.mark.browser


def log_in(page, base, business, english: bool) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("E-mail").fill(business.owner_username)
    page.get_by_label("Password" if english else "Passwort").fill(PASSWORD)
    page.locator("form button[type=submit]").last.click()


@pytest.mark.parametrize(
    ("locale", "device"), [("en-GB", DESKTOP), ("de-DE", PHONE)], ids=["desktop-en", "phone-de"]
)
def test_a_staff_suspension_speaks_to_customers_and_owner_by_reason(live_site, browser, locale, device):
    english = locale == "en-GB"
    business = live_site["provision"](unique_slug())
    billing.billing_staff_suspend(tenant=business.tenant, reason="fraud report")
    base = f"http://{business.host}:{live_site['port']}"
    context = browser.new_context(locale=locale, **device)
    page = context.new_page()
    try:
        response = page.goto(f"{base}/book/")
        assert response.status == 403
        heading = page.locator("h1").inner_text()
        assert heading == (
            "Online booking is currently not available"
            if english
            else "Online-Buchung ist derzeit nicht möglich"
        )
        assert "gesperrt" not in page.locator("main").inner_text().lower()
        screenshot(page, f"closed-customer-{locale}")

        log_in(page, base, business, english)
        page.wait_for_load_state("load")
        text = page.locator("main").inner_text()
        if english:
            assert "contact Termino support" in text and "Paying does not lift it" in text
        else:
            assert "Termino-Support" in text and "Bezahlen hebt sie nicht auf" in text
        screenshot(page, f"closed-owner-staff-{locale}")
    finally:
        context.close()


def test_the_owner_of_an_unpaid_business_lands_on_billing(live_site, browser):
    business = live_site["provision"](unique_slug())
    billing.tenant_status_set(tenant=business.tenant, status=TenantStatus.SUSPENDED, reason="trial over")
    base = f"http://{business.host}:{live_site['port']}"
    context = browser.new_context(locale="en-GB", **PHONE)
    page = context.new_page()
    try:
        log_in(page, base, business, english=True)
        page.wait_for_url(f"{base}/billing/")
        screenshot(page, "closed-owner-unpaid-phone")
    finally:
        context.close()


@pytest.mark.parametrize(
    ("locale", "device"), [("en-GB", DESKTOP), ("de-DE", PHONE)], ids=["desktop-en", "phone-de"]
)
def test_erasing_a_customer_offers_to_cancel_what_is_still_to_come(live_site, browser, locale, device):
    english = locale == "en-GB"
    business = live_site["provision"](unique_slug())
    with schema_context(business.schema):
        service, staff, _room = salon()
        anna = Customer.objects.create(first_name="Anna", last_name="Müller", phone="+491712345678")
        coming = scheduling.appointment_create(
            booking=scheduling.Booking(service=service, start=next_monday(), staff=staff[0]), customer=anna
        )
    base = f"http://{business.host}:{live_site['port']}"
    context = browser.new_context(locale=locale, **device)
    page = context.new_page()
    try:
        log_in(page, base, business, english)
        page.wait_for_url(f"{base}/")
        page.goto(f"{base}/privacy/customers/{anna.pk}/erase/")
        offer = page.locator(".privacy-future")
        assert service.name in offer.inner_text()
        screenshot(page, f"erase-1-offer-{locale}")
        offer.get_by_role(
            "button", name="Cancel without a message" if english else "Ohne Nachricht absagen"
        ).click()
        page.wait_for_load_state("load")
        assert page.locator(".privacy-future").count() == 0
        page.locator("input[name=confirm_name]").fill("Anna Müller")
        page.get_by_role("button", name="Erase for good" if english else "Endgültig löschen").click()
        page.wait_for_load_state("load")
        screenshot(page, f"erase-2-done-{locale}")
        with schema_context(business.schema):
            kept = Appointment.objects.get(pk=coming.pk)
            assert (kept.status, kept.customer_id) == ("cancelled", None)
            assert not Customer.objects.filter(pk=anna.pk, last_name="Müller").exists()
    finally:
        context.close()
