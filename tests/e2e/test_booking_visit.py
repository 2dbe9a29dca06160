"""The booking page, a customer booking cut + colour as one visit while the stylist's processing gap already
belongs to another customer: offered, clicked, booked, one manage link."""

import re
from datetime import time as clock
from datetime import timedelta

import pytest
from django.utils import translation
from django_tenants.utils import schema_context

from termino.tenants.scheduling.models import Allocation, Appointment, Service
from tests.conftest import unique_slug
from tests.tenants.booking.public_helpers import booking_body, public_post
from tests.tenants.scheduling.factories import next_monday, salon

from .conftest import DESKTOP, PHONE, screenshot
from .test_booking_flow import fill_details, go_to_monday, texts

pytestmark = [pytest.mark.browser, pytest.mark.clock]

VISIT = {
    "several": "Book several services in one visit",
    "go": "Continue with these services",
}


@pytest.mark.parametrize(("lang", "device"), [("en", DESKTOP), ("de", PHONE)], ids=["desktop-en", "phone-de"])
def test_a_customer_books_cut_and_colour_while_the_processing_gap_is_booked(live_site, browser, lang, device):
    business = live_site["provision"](unique_slug())
    with schema_context(business.schema):
        cut, (anna,), _room = salon(staff_count=1, price="30.00")
        colour = Service.objects.create(
            name="Farbe", duration_minutes=60, price="60.00", processing_after_minutes=15,
            processing_minutes=30, min_notice_minutes=0,
        )  # fmt: skip
        colour.resources.set([anna])
    # Max has a cut at 10:45, inside the gap a visit at 10:00 leaves (cut 10:00-10:30, colour 10:30-11:30).
    start = next_monday(clock(10))
    max_cut = public_post(
        business.host,
        "bookings/",
        booking_body(
            cut, start + timedelta(minutes=45), email="max@example.com", phone="", sms_consent=False
        ),
    )
    assert max_cut.status_code == 201, max_cut.json()
    text = texts(lang, business.tenant.name)
    with translation.override(lang):
        visit = {key: translation.gettext(msgid) for key, msgid in VISIT.items()}
    context = browser.new_context(locale={"en": "en-GB", "de": "de-DE"}[lang], **device)
    page = context.new_page()
    base = f"http://{business.host}:{live_site['port']}"
    try:
        page.goto(f"{base}/book/")
        page.get_by_role("heading", name=text["book"]).wait_for()
        page.get_by_text(visit["several"]).click()
        page.get_by_role("checkbox", name="Haarschnitt").check()
        page.get_by_role("checkbox", name="Farbe").check()
        screenshot(page, f"visit-1-services-{lang}")
        page.get_by_role("button", name=visit["go"]).click()

        go_to_monday(page, text)
        page.get_by_role("button", name="10:00", exact=True).wait_for()
        # A quarter past would put the cut into Max's time.
        assert not page.get_by_role("button", name="10:15", exact=True).count()
        screenshot(page, f"visit-2-time-{lang}")
        page.get_by_role("button", name="10:00", exact=True).click()

        page.get_by_label(text["first_name"], exact=True).wait_for()
        assert "Haarschnitt + Farbe" in page.locator("[data-recap]").inner_text()
        fill_details(page, text, f"lena-visit-{lang}@example.com")
        page.get_by_role("button", name=text["submit"]).click()

        page.get_by_role("heading", name=text["booked"]).wait_for()
        facts = page.locator("[data-done-facts]").inner_text()
        assert "Haarschnitt + Farbe" in facts and re.search(r"10:00\s*[–-]\s*11:30", facts), facts
        screenshot(page, f"visit-3-done-{lang}")
        manage_href = page.get_by_role("link", name=text["manage"]).get_attribute("href")
    finally:
        context.close()
    with schema_context(business.schema):
        lead, colouring = Appointment.objects.filter(
            customer__email=f"lena-visit-{lang}@example.com"
        ).order_by("start")
        assert lead.start == start and lead.service == cut and colouring.service == colour
        assert lead.visit_id == colouring.visit_id and manage_href.endswith(
            f"/book/manage/{lead.manage_token}/"
        )
        assert Allocation.objects.filter(appointment=colouring, resource=anna).count() == 2
        assert Appointment.objects.filter(customer__email="max@example.com", status="confirmed").exists()
