"""The booking page as an end customer uses it: book, get the calendar entry, reschedule, cancel, collide.

Labels are looked up through Django's own translation catalogue, so the German test reads exactly what a
German customer reads (and still passes while new texts wait for their translation).
"""

import re
import time
from datetime import time as clock
from datetime import timedelta

import pytest
from django.utils import timezone, translation
from django.utils.html import strip_tags
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from termino.tenants.business.models import BusinessSettings
from termino.tenants.scheduling.models import Appointment, Service
from tests.conftest import unique_slug
from tests.tenants.booking.public_helpers import booking_body, public_post
from tests.tenants.scheduling.factories import next_monday, salon

from .conftest import DESKTOP, PHONE, screenshot

pytestmark = pytest.mark.browser

MSGIDS = {
    "book": "Book an appointment",
    "first_name": "First name",
    "last_name": "Last name",
    "email": "E-mail",
    "phone": "Phone",
    "note": "Note for us (optional)",
    "submit": "Book appointment",
    "request": "Request appointment",
    "requested": "Your booking request has been sent",
    "err_last_name": "Please enter your last name.",
    "err_privacy": "Please accept the privacy notice to book.",
    "next_week": "Next week",
    "any": "Any staff member",
    "booked": "Your appointment is booked",
    "calendar": "Add to calendar",
    "manage": "Change or cancel booking",
    "taken": "This time is no longer available. Please choose another one.",
    "new_time": "Choose a new time",
    "move": "Move appointment",
    "cancel": "Cancel booking",
    "cancel_yes": "Yes, cancel appointment",
    "cancelled": "Your appointment has been cancelled.",
    "status_cancelled": "Cancelled",
    "privacy": (
        'I have read the <a href="#bk-privacy" data-open-details>privacy notice</a> and agree that '
        "%(name)s uses my details to manage this appointment."
    ),
}


def texts(lang: str, business_name: str) -> dict[str, str]:
    with translation.override(lang):
        text = {key: translation.gettext(msgid) for key, msgid in MSGIDS.items()}
    text["privacy"] = strip_tags(text["privacy"]) % {"name": business_name}
    return text


def open_business(live_site, **rules):
    """A salon with two services and two staff members, open Monday to Saturday 09:00–18:00."""
    business = live_site["provision"](unique_slug())
    with schema_context(business.schema):
        staff_count = rules.pop("staff_count", 2)
        service, staff, _room = salon(
            staff_count=staff_count, price="48.00", description="Waschen, schneiden, föhnen."
        )
        colour = Service.objects.create(
            name="Farbe & Schnitt", duration_minutes=90, price="89.50", min_notice_minutes=0, colour="#db2777"
        )
        colour.resources.set(staff)
        BusinessSettings.objects.update_or_create(
            id=1,
            defaults={
                "impressum": f"{business.tenant.name}\nInhaberin: Erika Mustermann\nUSt-IdNr. DE123456789",
                "privacy_notice": "Wir speichern Ihre Angaben nur für Ihren Termin.",
                "brand_colour": "#0f766e",
                **rules,
            },
        )
    return business, service, staff, f"http://{business.host}:{live_site['port']}"


def go_to_monday(page, text: str) -> str:
    """Shows `next_monday()` in the week strip and picks it.

    The picker opens on the first week with free times; it is busy until it has settled there, so the
    test waits for that instead of racing it. The Monday is at most two weeks ahead (factories).
    """
    day = next_monday().date().isoformat()
    settled = page.locator('[data-picker][aria-busy="false"]')
    for _ in range(3):
        settled.wait_for()
        if page.locator(f'[data-day="{day}"]').count():
            break
        page.get_by_role("button", name=text["next_week"]).click()
    page.locator(f'[data-day="{day}"]').click()
    return day


def fill_details(page, text: dict, email: str) -> None:
    page.get_by_label(text["first_name"], exact=True).fill("Lena")
    page.get_by_label(text["last_name"], exact=True).fill("Fischer")
    page.get_by_label(text["email"], exact=True).fill(email)
    page.get_by_label(text["phone"], exact=True).fill("0170 1234567")
    page.get_by_label(text["privacy"]).check()


@pytest.mark.parametrize(
    ("lang", "device", "approval"),
    [("en", DESKTOP, False), ("de", PHONE, True)],
    ids=["desktop-en-confirmed", "phone-de-requested"],
)
def test_book_an_appointment_and_get_the_calendar_entry(live_site, settings, browser, lang, device, approval):
    settings.PUBLIC_FORM_MIN_SECONDS = 3  # production's wait (the other browser tests wait half a second)
    business, service, staff, base = open_business(live_site, approval_required=approval)
    status = "requested" if approval else "confirmed"
    text = texts(lang, business.tenant.name)
    context = browser.new_context(locale={"en": "en-GB", "de": "de-DE"}[lang], **device)
    page = context.new_page()
    try:
        page.goto(f"{base}/book/")
        assert page.locator("html").get_attribute("lang") == lang
        page.get_by_role("heading", name=text["book"]).wait_for()
        price = re.compile(r"48,00\s€")  # a business in Germany: German style in English too
        card = page.get_by_role("button", name=re.compile("Haarschnitt"))
        card.filter(has_text=price).wait_for()
        screenshot(page, f"booking-1-services-{lang}")
        card.click()

        page.get_by_role("button", name=re.compile(text["any"])).wait_for()
        screenshot(page, f"booking-2-staff-{lang}")
        page.get_by_role("button", name="Staff 1").click()

        go_to_monday(page, text)
        page.get_by_role("button", name="09:00", exact=True).wait_for()
        screenshot(page, f"booking-3-time-{lang}")
        page.get_by_role("button", name="09:00", exact=True).click()

        page.get_by_label(text["first_name"], exact=True).wait_for()
        fill_details(page, text, f"lena-{lang}@example.com")
        page.get_by_label(text["note"]).fill("Bitte nur die Spitzen.")
        screenshot(page, f"booking-4-details-{lang}")
        page.get_by_role("button", name=text["request" if approval else "submit"]).click()

        page.get_by_role("heading", name=text["requested" if approval else "booked"]).wait_for()
        assert "09:00" in page.locator("[data-done-facts]").inner_text()
        screenshot(page, f"booking-5-done-{lang}")
        calendar = page.get_by_role("link", name=text["calendar"])
        with page.expect_download() as download:
            calendar.click()
        assert download.value.suggested_filename.endswith(".ics")
        # What the browser gets from the link: a calendar file.
        content_type, body = page.evaluate(
            "href => fetch(href).then(async r => [r.headers.get('content-type'), await r.text()])",
            calendar.get_attribute("href"),
        )
        assert content_type.startswith("text/calendar")
        assert "BEGIN:VCALENDAR" in body
        manage_href = page.get_by_role("link", name=text["manage"]).get_attribute("href")
        assert manage_href.startswith(f"{base}/book/manage/")
    finally:
        context.close()
    with schema_context(business.schema):
        appointment = Appointment.objects.get(status=status)
        assert appointment.start == next_monday(clock(9))
        assert appointment.service == service
        assert appointment.customer.email == f"lena-{lang}@example.com"
        assert set(appointment.allocations.values_list("resource_id", flat=True)) >= {staff[0].pk}


def test_manage_link_reschedules_then_cancels_and_locks_after_the_cutoff(live_site, browser):
    business, service, _staff, base = open_business(live_site)
    booked = public_post(business.host, "bookings/", booking_body(service, next_monday(clock(10))))
    assert booked.status_code == 201, booked.json()
    token = booked.json()["manage_token"]
    text = texts("en", business.tenant.name)
    context = browser.new_context(locale="en-GB", **DESKTOP)
    page = context.new_page()
    try:
        page.goto(f"{base}/book/manage/{token}/")
        facts = page.locator("[data-part=facts]")
        facts.get_by_text("Haarschnitt").wait_for()
        assert "10:00" in facts.inner_text()
        screenshot(page, "manage-1-booking")

        page.get_by_role("button", name=text["new_time"]).click()
        page.get_by_role("button", name="11:00", exact=True).click()
        screenshot(page, "manage-2-reschedule")
        page.get_by_role("button", name=text["move"]).click()
        page.locator("[data-part=message]").get_by_text("11:00").wait_for()
        assert "11:00" in facts.inner_text()
        with schema_context(business.schema):
            assert Appointment.objects.get(manage_token=token).start == next_monday(clock(11))

        page.get_by_role("button", name=text["cancel"]).click()
        page.get_by_role("button", name=text["cancel_yes"]).click()
        page.get_by_text(text["cancelled"]).first.wait_for()
        assert text["status_cancelled"] in facts.inner_text()
        assert page.get_by_role("button", name=text["new_time"]).is_hidden()
        screenshot(page, "manage-3-cancelled")
        with schema_context(business.schema):
            assert Appointment.objects.get(manage_token=token).status == "cancelled"
    finally:
        context.close()

    # Inside the business's cut-off the page only offers its phone number.
    late = public_post(business.host, "bookings/", booking_body(service, next_monday(clock(12))))
    with schema_context(business.schema):
        BusinessSettings.objects.filter(id=1).update(cancel_cutoff_hours=24 * 30)
    context = browser.new_context(locale="de-DE", **PHONE)
    page = context.new_page()
    try:
        page.goto(f"{base}/book/manage/{late.json()['manage_token']}/")
        phone_link = page.locator("[data-part=locked] a[href^='tel:']")
        phone_link.wait_for()
        assert phone_link.get_attribute("href") == f"tel:{business.tenant.phone}"
        assert page.get_by_role("button", name=texts("de", "")["new_time"]).count() == 0
        screenshot(page, "manage-4-locked-de")
    finally:
        context.close()


@pytest.mark.clock
def test_a_time_taken_meanwhile_offers_the_nearest_free_times(live_site, browser):
    business, service, _staff, base = open_business(live_site, staff_count=1)
    text = texts("en", business.tenant.name)
    context = browser.new_context(locale="en-GB", **PHONE)
    page = context.new_page()
    try:
        page.goto(f"{base}/book/")
        page.get_by_role("button", name=re.compile("Haarschnitt")).click()
        # One staff member: no staff step, straight to the days.
        go_to_monday(page, text)
        page.get_by_role("button", name="09:00", exact=True).wait_for()

        # Someone else books 09:00 while the customer looks at the times.
        other = public_post(business.host, "bookings/", booking_body(service, next_monday(clock(9))))
        assert other.status_code == 201
        page.get_by_role("button", name="09:00", exact=True).click()
        conflict = page.locator("[data-conflict]")
        conflict.get_by_text(text["taken"]).wait_for()
        nearest = conflict.get_by_role("button")
        assert nearest.count() >= 1 and "09:30" in nearest.first.inner_text()
        screenshot(page, "booking-conflict-hold")
        nearest.first.click()

        # The customer types; the hold lapses and someone else takes 09:30 too.
        page.get_by_label(text["first_name"], exact=True).wait_for()
        assert "09:30" in page.locator("[data-recap]").inner_text()
        # Sent empty: each missing field says what it needs.
        page.get_by_role("button", name=text["submit"]).click()
        page.get_by_text(text["err_last_name"]).wait_for()
        expect(page.get_by_text(text["err_privacy"])).to_be_visible()
        assert page.get_by_label(text["last_name"], exact=True).get_attribute("aria-invalid") == "true"
        screenshot(page, "booking-form-errors")
        fill_details(page, text, "lena@example.com")
        with schema_context(business.schema):
            lapsed = timezone.now() - timedelta(seconds=1)
            assert Appointment.objects.filter(status="held").update(hold_expires_at=lapsed) == 1
        third = booking_body(
            service, next_monday(clock(9, 30)), email="c@example.com", phone="", sms_consent=False
        )
        assert public_post(business.host, "bookings/", third).status_code == 201
        started = time.monotonic()
        page.get_by_role("button", name=text["submit"]).click()
        form_conflict = page.locator("[data-form-conflict]")
        form_conflict.get_by_text(text["taken"]).wait_for()
        assert form_conflict.get_by_role("button", name=re.compile(r"\d\d:\d\d")).count() >= 1
        screenshot(page, "booking-conflict-submit")
        form_conflict.get_by_role("button", name=re.compile(r"\d\d:\d\d")).first.click()
        page.locator("[data-form-conflict]").wait_for(state="hidden")
        page.get_by_role("button", name=text["submit"]).click()
        page.get_by_role("heading", name=text["booked"]).wait_for()
        assert time.monotonic() - started < 15
    finally:
        context.close()
    with schema_context(business.schema):
        assert Appointment.objects.filter(status="confirmed").count() == 3


def test_embedded_page_reports_its_height_and_works_by_keyboard_alone(live_site, browser):
    business, _service, _staff, base = open_business(live_site)
    text = texts("en", business.tenant.name)
    context = browser.new_context(locale="en-GB", **PHONE)
    page = context.new_page()
    # A page of the business's own origin that frames the booking page, as its website would.
    page.route(
        f"{base}/website/",
        lambda route: route.fulfill(
            content_type="text/html",
            body="<!doctype html><meta name=viewport content='width=device-width'><h1>Salon</h1>"
            f"<iframe src='{base}/book/?embed=1' style='width:100%;border:0'></iframe><script>heights = [];"
            "onmessage = e => { if (e.data.type !== 'termino:height') return; heights.push(e.data.height);"
            "document.querySelector('iframe').style.height = e.data.height + 'px'; };</script>",
        ),
    )
    try:
        page.goto(f"{base}/website/")
        page.wait_for_function("window.heights.length > 0")
        frame = page.frame_locator("iframe")
        frame.get_by_role("heading", name=text["book"]).wait_for()
        assert frame.locator(".topbar").is_hidden() and frame.locator(".footer").is_hidden()

        def focused(selector: str) -> bool:
            return frame.locator(selector).evaluate("el => el === document.activeElement")

        # Keyboard only: every step moves the focus to its heading, Tab reaches the choices.
        frame.locator("[data-service]").first.focus()
        page.keyboard.press("Enter")
        assert focused("[data-step=staff] .bk-step-title")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        assert focused("[data-step=time] .bk-step-title")
        frame.locator(".bk-time").first.wait_for()
        for _ in range(25):
            page.keyboard.press("Tab")
            if frame.locator(".bk-time").first.evaluate("el => el === document.activeElement"):
                break
        page.keyboard.press("Enter")
        frame.get_by_label(text["first_name"], exact=True).wait_for()
        assert focused("[data-step=details] .bk-step-title")
        # The frame follows the page's height, up and down.
        page.wait_for_function("new Set(window.heights).size > 1")
        heights = page.evaluate("window.heights")
        frame_height = page.locator("iframe").evaluate("el => el.contentDocument.body.scrollHeight")
        assert abs(heights[-1] - frame_height) <= 2
        screenshot(page, "booking-embedded-details")
    finally:
        context.close()
