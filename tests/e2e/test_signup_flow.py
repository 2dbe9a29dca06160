import re

import pytest
from django.core import mail
from django.utils import translation
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from termino.platform.tenancy.models import Tenant
from tests.conftest import PASSWORD, unique_slug
from tests.tenants.scheduling.factories import salon

from .conftest import DESKTOP, PHONE, screenshot
from .test_booking_flow import fill_details, go_to_monday, texts

pytestmark = pytest.mark.browser

LABELS = {
    "en": {
        "owner": "Your full name",
        "company": "Company name",
        "street": "Street and number",
        "postcode": "Postcode",
        "city": "City",
        "phone": "Phone",
        "email": "E-mail",
        "password": "Password",
        "slug": "Your address",
        "terms": "I accept the terms",
        "submit": "Create my business",
        "login": "Log in",
        "greeting": "Good day, Marta",
    },
    "de": {
        "owner": "Ihr vollständiger Name",
        "company": "Firmenname",
        "street": "Straße und Hausnummer",
        "postcode": "PLZ",
        "city": "Ort",
        "phone": "Telefon",
        "email": "E-Mail",
        "password": "Passwort",
        "slug": "Ihre Adresse",
        "terms": "Ich akzeptiere die AGB",
        "submit": "Unternehmen anlegen",
        "login": "Anmelden",
        "greeting": "Guten Tag, Marta",
    },
}
# Texts of the confirmation, read through the catalogue like a visitor of that language reads them.
CONFIRM_MSGIDS = {
    "not_open": "Online booking is not available yet.",
    "confirm": "Confirm my e-mail address",
    "confirmed": "Thank you, your e-mail address is confirmed.",
    "resend": "Resend link",
}


def confirm_texts(lang: str) -> dict[str, str]:
    with translation.override(lang):
        return {key: translation.gettext(msgid) for key, msgid in CONFIRM_MSGIDS.items()}


@pytest.mark.parametrize(("lang", "device"), [("en", DESKTOP), ("de", PHONE)], ids=["desktop-en", "phone-de"])
def test_sign_up_land_logged_in_confirm_the_address_and_take_a_booking(live_site, browser, lang, device):
    text, confirm = LABELS[lang], confirm_texts(lang)
    slug = unique_slug()
    email = f"marta@{slug}.example"
    context = browser.new_context(locale={"en": "en-GB", "de": "de-DE"}[lang], **device)
    page = context.new_page()
    try:
        page.goto(f"{live_site['url']}/signup/")
        page.get_by_label(text["owner"], exact=True).fill("Marta Nowak")
        page.get_by_label(text["company"], exact=True).fill("Praxis Nowak")
        page.get_by_label(text["street"], exact=True).fill("Bergstraße 7")
        page.get_by_label(text["postcode"], exact=True).fill("80331")
        page.get_by_label(text["city"], exact=True).fill("München")
        page.get_by_label(text["phone"], exact=True).fill("089 1234567")
        page.get_by_label(text["email"], exact=True).fill(email)
        page.get_by_label(text["password"], exact=True).fill(PASSWORD)
        page.get_by_label(text["slug"], exact=True).fill(slug)
        page.get_by_label(text["terms"]).check()
        screenshot(page, f"signup-form-{lang}")
        page.get_by_role("button", name=text["submit"]).click()

        # Logged in at once (a one-time pass): the password is not asked for again.
        page.wait_for_url(f"http://{slug}.localhost:{live_site['port']}/")
        assert text["greeting"] in page.content()
        assert "Praxis Nowak" in page.content()
        # The backoffice works at once; a banner asks to confirm the address.
        banner = page.locator("[data-email-confirm-banner]")
        expect(banner).to_contain_text(email)
        expect(banner.get_by_role("button", name=confirm["resend"])).to_be_visible()
        screenshot(page, f"signup-dashboard-{lang}")

        # Customers cannot book yet.
        base = f"http://{slug}.localhost:{live_site['port']}"
        page.goto(f"{base}/book/")
        page.get_by_text(confirm["not_open"]).wait_for()
        screenshot(page, f"signup-booking-closed-{lang}")

        # The owner follows the link from the e-mail (Django's test outbox) and confirms.
        (message,) = [m for m in mail.outbox if m.to == [email]]
        link = re.search(rf"{re.escape(base)}/confirm-email/\S+/", message.body)[0]
        page.goto(link)
        page.get_by_role("button", name=confirm["confirm"]).click()
        page.get_by_role("heading", name=confirm["confirmed"]).wait_for()
        screenshot(page, f"signup-confirmed-{lang}")
        page.goto(f"{base}/")
        page.get_by_text(text["greeting"]).wait_for()
        assert page.locator("[data-email-confirm-banner]").count() == 0

        # With a service set up, customers book on the booking page.
        tenant = Tenant.objects.get(slug=slug)
        with schema_context(tenant.schema_name):
            salon()
        booking = texts(lang, "Praxis Nowak")
        page.goto(f"{base}/book/")
        page.get_by_role("button", name=re.compile("Haarschnitt")).click()
        page.get_by_role("button", name="Staff 1").click()
        go_to_monday(page, booking)
        page.get_by_role("button", name="09:00", exact=True).click()
        page.get_by_label(booking["first_name"], exact=True).wait_for()
        fill_details(page, booking, f"kundin-{lang}@example.com")
        page.get_by_role("button", name=booking["submit"]).click()
        page.get_by_role("heading", name=booking["booked"]).wait_for()
        screenshot(page, f"signup-first-booking-{lang}")
    finally:
        context.close()
    tenant = Tenant.objects.get(slug=slug)
    assert tenant.phone == "+49891234567"
    assert tenant.email_confirmed_at is not None


def test_signup_errors_are_shown_next_to_the_fields(live_site, browser, business_a):
    context = browser.new_context(locale="en-GB", **DESKTOP)
    page = context.new_page()
    try:
        page.goto(f"{live_site['url']}/signup/")
        page.get_by_label("Your address").fill(business_a.tenant.slug)
        page.get_by_label("Phone").fill("12")
        page.get_by_role("button", name="Create my business").click()
        expect(page.get_by_text("This address is already taken")).to_be_visible()
        expect(page.get_by_text("valid phone number")).to_be_visible()
        assert page.get_by_label("Your address").input_value() == business_a.tenant.slug
        screenshot(page, "signup-errors")
    finally:
        context.close()
