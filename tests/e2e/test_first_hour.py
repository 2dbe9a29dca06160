"""A new owner's first hour, in a real browser: sign up on the platform, land logged in (the password is
typed once), confirm the address, follow the start page's checklist — opening hours, a service, "I work
here myself" — open the booking page from it and book there as a customer."""

import re

import pytest
from django.core import mail
from django.utils import translation
from playwright.sync_api import expect

from tests.conftest import PASSWORD, unique_slug

from .conftest import PHONE, screenshot
from .test_booking_flow import fill_details, go_to_monday, texts
from .test_signup_flow import LABELS, confirm_texts

pytestmark = pytest.mark.browser

DESKTOP_1366 = {"viewport": {"width": 1366, "height": 800}}
MSGIDS = {
    "title": "Get ready for your first online booking",
    "ready": "Your booking page is ready",
    "set_hours": "Set opening hours",
    "save_hours": "Save opening hours",
    "hours_saved": "The opening hours are saved.",
    "create_service": "Create a service",
    "save": "Save",
    "myself": "I work here myself",
    "continue": "Continue",
    "open_page": "Open your booking page",
    "hide": "Done, hide this list",
    "password": "Password",
}


def t(lang: str) -> dict[str, str]:
    with translation.override(lang):
        return {key: translation.gettext(msgid) for key, msgid in MSGIDS.items()}


def progress(page) -> str:
    return page.locator("[data-checklist] progress").get_attribute("value")


@pytest.mark.parametrize(
    ("lang", "device"), [("en", DESKTOP_1366), ("de", PHONE)], ids=["desktop-en", "phone-de"]
)
def test_from_signup_to_the_first_online_booking(live_site, browser, lang, device):
    label, confirm, text = LABELS[lang], confirm_texts(lang), t(lang)
    slug = unique_slug()
    email = f"nora@{slug}.example"
    base = f"http://{slug}.localhost:{live_site['port']}"
    context = browser.new_context(locale={"en": "en-GB", "de": "de-DE"}[lang], **device)
    page = context.new_page()
    shot = f"first-hour-{lang}"
    try:
        page.goto(f"{live_site['url']}/signup/")
        page.get_by_label(label["owner"], exact=True).fill("Nora Berg")
        page.get_by_label(label["company"], exact=True).fill("Salon Nora")
        page.get_by_label(label["street"], exact=True).fill("Lindenweg 3")
        page.get_by_label(label["postcode"], exact=True).fill("50667")
        page.get_by_label(label["city"], exact=True).fill("Köln")
        page.get_by_label(label["phone"], exact=True).fill("0221 1234567")
        page.get_by_label(label["email"], exact=True).fill(email)
        page.get_by_label(label["password"], exact=True).fill(PASSWORD)
        page.get_by_label(label["slug"], exact=True).fill(slug)
        page.get_by_label(label["terms"]).check()
        page.get_by_role("button", name=label["submit"]).click()

        # Straight into the backoffice: no login page, no second password.
        page.wait_for_url(f"{base}/")
        assert page.get_by_label(text["password"], exact=True).count() == 0
        page.get_by_role("heading", name=text["title"]).wait_for()
        assert progress(page) == "0"
        screenshot(page, f"{shot}-1-landed")

        # The address is confirmed from the e-mail (Django's test outbox).
        (message,) = [m for m in mail.outbox if m.to == [email]]
        page.goto(re.search(rf"{re.escape(base)}/confirm-email/\S+/", message.body)[0])
        page.get_by_role("button", name=confirm["confirm"]).click()
        page.get_by_role("heading", name=confirm["confirmed"]).wait_for()
        page.goto(f"{base}/")

        # 1. Opening hours: Monday to Friday 09:00–18:00.
        page.get_by_role("link", name=text["set_hours"]).click()
        monday = page.locator('fieldset[data-day="0"]')
        monday.locator("[data-add]").click()
        monday.locator("[data-part=start]").last.fill("09:00")
        monday.locator("[data-part=end]").last.fill("18:00")
        for weekday in range(1, 5):
            page.locator(f'fieldset[data-day="{weekday}"] [data-copy-previous]').click()
        page.get_by_role("button", name=text["save_hours"]).click()
        page.get_by_text(text["hours_saved"]).wait_for()
        page.goto(f"{base}/")
        assert progress(page) == "1"

        # 2. The first service, made before anybody does it: the start page names it.
        page.get_by_role("link", name=text["create_service"]).click()
        page.fill("#id_name", "Haarschnitt")
        page.fill("#id_duration_minutes", "30")
        page.locator("form.catalog-form").get_by_role("button", name=text["save"], exact=True).click()
        page.wait_for_url(f"{base}/settings/services/")
        screenshot(page, f"{shot}-2-service-nobody")
        page.goto(f"{base}/")
        assert progress(page) == "2"
        expect(page.locator("#step-people .step-warning").get_by_text("Haarschnitt")).to_be_visible()

        # 3. "I work here myself", ticked already: one click makes her calendar column.
        assert page.get_by_label(text["myself"]).is_checked()
        screenshot(page, f"{shot}-3-myself")
        page.get_by_role("button", name=text["continue"]).click()
        page.get_by_role("heading", name=text["ready"]).wait_for()
        assert progress(page) == "4"
        screenshot(page, f"{shot}-4-ready")

        # 4. The booking page, from the checklist's link; a customer books there.
        with context.expect_page() as opened:
            page.locator("#step-booking").get_by_role("link", name=text["open_page"]).click()
        booking = opened.value
        booking.wait_for_load_state()
        assert booking.url == f"{base}/book/"
        words = texts(lang, "Salon Nora")
        booking.get_by_role("button", name=re.compile("Haarschnitt")).click()
        nora = booking.get_by_role("button", name="Nora Berg")
        if nora.count():  # with one person the page may skip the choice
            nora.click()
        go_to_monday(booking, words)
        booking.get_by_role("button", name="10:00", exact=True).click()
        booking.get_by_label(words["first_name"], exact=True).wait_for()
        fill_details(booking, words, f"kunde-{lang}@example.com")
        booking.get_by_role("button", name=words["submit"]).click()
        booking.get_by_role("heading", name=words["booked"]).wait_for()
        screenshot(booking, f"{shot}-5-booked")

        # Done: the list can be put away.
        page.get_by_role("button", name=text["hide"]).click()
        page.wait_for_url(f"{base}/")
        assert page.locator("[data-checklist]").count() == 0
    finally:
        context.close()
