import pytest

from termino.platform.tenancy.models import Tenant
from tests.conftest import PASSWORD, unique_slug

from .conftest import DESKTOP, PHONE, screenshot

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


@pytest.mark.parametrize(("lang", "device"), [("en", DESKTOP), ("de", PHONE)], ids=["desktop-en", "phone-de"])
def test_sign_up_then_log_in_at_the_new_address(live_site, browser, lang, device):
    text = LABELS[lang]
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

        page.wait_for_url(f"http://{slug}.localhost:{live_site['port']}/login/**")
        assert page.get_by_label(text["email"], exact=True).input_value() == email
        screenshot(page, f"signup-login-{lang}")
        page.get_by_label(text["password"], exact=True).fill(PASSWORD)
        page.get_by_role("button", name=text["login"]).click()
        page.wait_for_url(f"http://{slug}.localhost:{live_site['port']}/")
        assert text["greeting"] in page.content()
        assert "Praxis Nowak" in page.content()
        screenshot(page, f"signup-dashboard-{lang}")
    finally:
        context.close()
    tenant = Tenant.objects.get(slug=slug)
    assert tenant.phone == "+49891234567"


def test_signup_errors_are_shown_next_to_the_fields(live_site, browser, business_a):
    context = browser.new_context(locale="en-GB", **DESKTOP)
    page = context.new_page()
    try:
        page.goto(f"{live_site['url']}/signup/")
        page.get_by_label("Your address").fill(business_a.tenant.slug)
        page.get_by_label("Phone").fill("12")
        page.get_by_role("button", name="Create my business").click()
        assert page.get_by_text("This address is already taken").is_visible()
        assert page.get_by_text("valid phone number").is_visible()
        assert page.get_by_label("Your address").input_value() == business_a.tenant.slug
        screenshot(page, "signup-errors")
    finally:
        context.close()
