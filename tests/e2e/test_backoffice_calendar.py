"""A receptionist's day in the calendar: book a caller into the next free slot or into free time, drag
appointments to other times and staff members (a refused move snaps back with the reason), drag their lower
edge, drag over free time to book or block it, the month view, the keyboard and touch alternatives, and
booking for a customer from their page. Desktop and phone, English and German."""

import re
from datetime import time, timedelta

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from termino.shared import timeutils
from termino.tenants.crm.models import Customer
from termino.tenants.scheduling import services as scheduling
from termino.tenants.scheduling.models import Appointment, Closure
from tests.conftest import PASSWORD, unique_slug
from tests.tenants.scheduling.factories import BERLIN, next_monday, salon

from .conftest import PHONE, screenshot

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1366, "height": 800}}


def open_calendar(live_site, browser, device=DESKTOP, locale="en-GB"):
    """Business with Staff 1 and 2, Lena Vogel (no booking) and Paul Kranich on Monday 10:00 with Staff 2."""
    business = live_site["provision"](unique_slug())
    with schema_context(business.schema):
        service, staff, _room = salon(name="Haarschnitt", min_notice_minutes=0)
        customer = Customer.objects.create(first_name="Lena", last_name="Vogel", phone="+4917612345678")
        scheduling.appointment_create(
            booking=scheduling.Booking(service=service, start=next_monday(), staff=staff[1]),
            customer=Customer.objects.create(first_name="Paul", last_name="Kranich"),
        )
    base = f"http://{business.host}:{live_site['port']}"
    context = browser.new_context(locale=locale, **device)
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", business.owner_username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(f"{base}/")
    return business, service, staff, customer, base, context, page


# How Chromium's Intl writes a short date (the dialog's), by language.
GERMAN_MONTHS = [
    "Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sept.", "Okt.", "Nov.", "Dez.",
]  # fmt: skip
ENGLISH_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def dialog_date(monday, english: bool) -> str:
    if english:
        return f"Mon, {monday.day} {ENGLISH_MONTHS[monday.month - 1]} {monday.year}"
    return f"Mo., {monday.day}. {GERMAN_MONTHS[monday.month - 1]} {monday.year}"


def last_monday_morning():
    """The latest Monday 09:00 (Berlin) before the pinned "now": an appointment that has begun."""
    today = timeutils.today(BERLIN)
    past = timeutils.local_at(today - timedelta(days=today.weekday()), time(9), BERLIN)
    if past >= timeutils.now():  # a Monday before 09:00
        past = timeutils.local_at(today - timedelta(days=7), time(9), BERLIN)
    assert past < timeutils.now()
    return past


def appointments(business):
    with schema_context(business.schema):
        return list(Appointment.objects.select_related("customer").order_by("start"))


def show_day(page, base, day, **params):
    query = "".join(f"&{k}={v}" for k, v in params.items())
    page.goto(f"{base}/calendar/?date={day.isoformat()}{query}")
    page.locator(".ec-body .ec-day").first.wait_for()
    page.wait_for_load_state("networkidle")


def point(page, column: int, at: str, *, offset: float = 4) -> tuple[float, float]:
    """Page coordinates (not the viewport's) of the wall-clock time `at` in the n-th column of the grid."""
    first = page.locator(".ec-body .ec-sidebar .ec-slot").first.text_content().strip()
    slot = page.locator(".ec-main").evaluate(
        "el => parseFloat(getComputedStyle(el).getPropertyValue('--ec-slot-height'))"
    )
    box = page.locator(".ec-body .ec-day").nth(column).bounding_box()
    scroll = page.evaluate("[scrollX, scrollY]")
    minutes = int(at[:2]) * 60 + int(at[3:]) - (int(first[:2]) * 60 + int(first[3:5]))
    return box["x"] + scroll[0] + box["width"] / 2, box["y"] + scroll[1] + minutes * slot / 30 + offset


def top_of(page, locator, *, dy: float = 6) -> tuple[float, float]:
    box = locator.bounding_box()
    scroll = page.evaluate("[scrollX, scrollY]")
    return box["x"] + scroll[0] + box["width"] / 2, box["y"] + scroll[1] + dy


def _in_view(page, *points):
    """Scrolls so that the points (page coordinates) are in view; their viewport coordinates."""
    middle = sum(y for _x, y in points) / len(points)
    page.evaluate("y => window.scrollTo(0, y - innerHeight / 2)", middle)
    scroll = page.evaluate("[scrollX, scrollY]")
    return [(x - scroll[0], y - scroll[1]) for x, y in points]


def click_at(page, where: tuple[float, float]) -> None:
    (spot,) = _in_view(page, where)
    page.mouse.click(*spot)


def drag(page, start: tuple[float, float], end: tuple[float, float]) -> None:
    start, end = _in_view(page, start, end)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(start[0], start[1] + 8, steps=3)
    page.mouse.move(*end, steps=12)
    page.mouse.up()


def event(page, text: str):
    return page.locator(".ec-event", has_text=text)


@pytest.mark.clock
def test_book_a_caller_into_the_next_free_slot_then_move_the_appointment(live_site, browser):
    business, service, staff, customer, base, context, page = open_calendar(live_site, browser)
    try:
        monday = next_monday().date()
        show_day(page, base, monday)
        screenshot(page, "calendar-1-day")

        # The phone rings: the finder offers the next five free slots of the service.
        page.get_by_role("button", name="Next free slots").click()
        page.get_by_label("Service").and_(page.locator("#finder-service")).select_option(str(service.pk))
        offers = page.locator(".finder-results li")
        offers.nth(4).wait_for()
        assert offers.count() == 5
        screenshot(page, "calendar-2-finder")
        offers.first.get_by_role("button", name="Book").click()

        dialog = page.locator("#book-dialog")
        assert dialog.locator("#book-service").input_value() == str(service.pk)
        dialog.get_by_label("Search customers").fill("vog")
        dialog.get_by_role("option", name=re.compile("Lena Vogel")).click()
        assert dialog.locator("[data-chosen-name]").inner_text() == "Lena Vogel"
        screenshot(page, "calendar-3-book")
        dialog.get_by_role("button", name="Book", exact=True).click()
        page.locator("#book-dialog[open]").wait_for(state="detached")
        page.locator(".cal-notice", has_text="Appointment booked").wait_for()
        booked = [a for a in appointments(business) if a.customer_id == customer.pk]
        assert len(booked) == 1

        # A new customer calls for Monday 14:00 with Staff 1: click the free time in that column.
        show_day(page, base, monday)
        click_at(page, point(page, 0, "14:00"))
        assert dialog.locator("#book-time").input_value() == "14:00"
        assert dialog.locator("#book-staff").input_value() == str(staff[0].pk)
        dialog.locator("#book-service").select_option(str(service.pk))
        dialog.get_by_label("First name").fill("Nina")
        dialog.get_by_label("Last name").fill("Neu")
        dialog.get_by_label("Phone").fill("0171 2345678")
        dialog.get_by_role("button", name="Book", exact=True).click()
        event(page, "Nina Neu").wait_for()
        nina = next(a for a in appointments(business) if a.customer and a.customer.last_name == "Neu")
        assert nina.start == next_monday().replace(hour=14)
        assert nina.customer.phone == "+491712345678"

        # Move Nina to 10:00 with Staff 2 in the dialog: Paul Kranich is there, so it says why not.
        event(page, "Nina Neu").click()
        appt = page.locator("#appt-dialog")
        assert appt.locator("[data-f=phone]").inner_text() == "0171 2345678"  # national format
        when = f"{dialog_date(next_monday(), english=True)}, 14:00–14:30"
        assert appt.locator("[data-f=when]").inner_text() == when
        appt.get_by_text("Move", exact=True).click()
        appt.locator("#move-time").fill("10:00")
        appt.locator("#move-staff").select_option(str(staff[1].pk))
        appt.get_by_role("button", name="Move appointment").click()
        error = appt.locator(".error-box")
        error.wait_for()
        assert "10:00" in error.inner_text()
        screenshot(page, "calendar-4-conflict")

        # Then to 15:30 with Staff 2, which is free.
        appt.locator("#move-time").fill("15:30")
        appt.get_by_role("button", name="Move appointment").click()
        event(page, "Nina Neu").filter(has_text="15:30").wait_for()
        nina = next(a for a in appointments(business) if a.pk == nina.pk)
        assert nina.start == next_monday().replace(hour=15, minute=30)
        with schema_context(business.schema):
            assert list(nina.allocations.values_list("resource_id", flat=True)) == [staff[1].pk]
    finally:
        context.close()


@pytest.mark.parametrize("device", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_drag_to_move_across_staff_and_to_change_the_length(live_site, browser, device):
    business, service, staff, customer, base, context, page = open_calendar(live_site, browser, device)
    name = "desktop" if device is DESKTOP else "phone"
    with schema_context(business.schema):
        lena = scheduling.appointment_create(
            booking=scheduling.Booking(service=service, start=next_monday().replace(hour=12), staff=staff[0]),
            customer=customer,
        )
    try:
        show_day(page, base, next_monday().date())
        card = event(page, "Lena Vogel")
        before = top_of(page, card)

        # Onto Paul Kranich at 10:00 with Staff 2: refused, back in its place, the reason above the calendar.
        drag(page, top_of(page, card), point(page, 1, "10:00"))
        notice = page.locator(".cal-notice.alert-error")
        notice.wait_for()
        assert "Staff 2 is already booked from 10:00 to 10:30" in notice.inner_text()
        page.wait_for_timeout(300)
        assert top_of(page, card) == pytest.approx(before, abs=2)
        screenshot(page, f"calendar-5-drag-refused-{name}")
        assert appointments(business)[1].start == next_monday().replace(hour=12)

        # To 14:00 with Staff 2: moved, in the other column.
        drag(page, top_of(page, card), point(page, 1, "14:00"))
        page.locator(".cal-notice", has_text="Appointment moved").wait_for()
        with schema_context(business.schema):
            lena.refresh_from_db()
            assert lena.start == next_monday().replace(hour=14)
            assert list(lena.allocations.values_list("resource_id", flat=True)) == [staff[1].pk]

        # Its lower edge dragged down by an hour: 90 minutes long.
        card.filter(has_text="14:00–14:30").wait_for()
        page.wait_for_load_state("networkidle")
        edge = top_of(page, card, dy=card.bounding_box()["height"] - 3)
        drag(page, edge, (edge[0], point(page, 1, "15:30", offset=-2)[1]))
        page.locator(".cal-notice", has_text="Appointment length changed").wait_for()
        with schema_context(business.schema):
            lena.refresh_from_db()
            assert lena.end == next_monday().replace(hour=15, minute=30)
        card.filter(has_text="14:00–15:30").wait_for()
        screenshot(page, f"calendar-6-dragged-{name}")
    finally:
        context.close()


def test_drag_over_free_time_to_block_it_or_to_book_it_in_german(live_site, browser):
    business, service, staff, customer, base, context, page = open_calendar(
        live_site, browser, locale="de-DE"
    )
    try:
        show_day(page, base, next_monday().date())

        # Staff 1 from 15:00 to 16:30: the booking dialog opens; this time is to be blocked instead.
        drag(page, point(page, 0, "15:00"), point(page, 0, "16:15"))
        dialog = page.locator("#book-dialog")
        dialog.wait_for()
        assert dialog.locator("#book-time").input_value() == "15:00"
        dialog.get_by_role("button", name="Diese Zeit stattdessen blockieren").click()
        block = page.locator("#block-dialog")
        assert block.locator("#block-until").input_value() == "16:30"
        assert block.locator("#block-resource").input_value() == str(staff[0].pk)
        block.get_by_label("Grund").fill("Fortbildung")
        screenshot(page, "calendar-7-block-de")
        block.get_by_role("button", name="Zeit blockieren").click()
        event(page, "Fortbildung").wait_for()
        with schema_context(business.schema):
            closure = Closure.objects.get()
            assert (closure.resource_id, closure.reason) == (staff[0].pk, "Fortbildung")
            assert closure.start == next_monday().replace(hour=15)
            assert closure.end == next_monday().replace(hour=16, minute=30)

        # Blocking Paul Kranich's time with Staff 2 is refused with the reason.
        drag(page, point(page, 1, "09:30"), point(page, 1, "10:45"))
        dialog.get_by_role("button", name="Diese Zeit stattdessen blockieren").click()
        block.get_by_role("button", name="Zeit blockieren").click()
        error = block.locator(".error-box")
        error.wait_for()
        assert "Staff 2 ist bereits von 10:00 bis 10:30 gebucht" in error.inner_text()
        block.locator("[data-close]").first.click()

        # Staff 1 at 11:00: book Lena Vogel.
        drag(page, point(page, 0, "11:00"), point(page, 0, "11:30"))
        assert dialog.locator("#book-time").input_value() == "11:00"
        dialog.locator("#book-service").select_option(str(service.pk))
        dialog.get_by_label("Kunden suchen").fill("vog")
        dialog.get_by_role("option", name=re.compile("Lena Vogel")).click()
        dialog.get_by_role("button", name="Buchen", exact=True).click()
        event(page, "Lena Vogel").wait_for()
        screenshot(page, "calendar-8-blocked-and-booked-de")
        lena = [a for a in appointments(business) if a.customer_id == customer.pk]
        assert [a.start for a in lena] == [next_monday().replace(hour=11)]

        # The block is freed again from its own dialog.
        event(page, "Fortbildung").click()
        freed = page.locator("#blocked-dialog")
        assert "15:00–16:30" in freed.locator("[data-f=when]").inner_text()
        freed.get_by_role("button", name="Diese Zeit wieder freigeben").click()
        event(page, "Fortbildung").wait_for(state="detached")
        with schema_context(business.schema):
            assert not Closure.objects.exists()
    finally:
        context.close()


@pytest.mark.clock
@pytest.mark.parametrize("locale", ["en-GB", "de-DE"])
def test_month_view_and_the_keyboard_on_a_phone(live_site, browser, locale):
    business, service, staff, _customer, base, context, page = open_calendar(
        live_site, browser, PHONE, locale
    )
    past = last_monday_morning()
    with schema_context(business.schema):
        scheduling.appointment_create(
            booking=scheduling.Booking(service=service, start=past, staff=staff[0]),
            customer=Customer.objects.create(first_name="Ida", last_name="Reiher"),
        )
    english = locale == "en-GB"
    try:
        # The months of both appointments (the same month on most days); tapping a day opens it.
        monday = next_monday().date()
        page.goto(f"{base}/calendar/?view=month&date={past.date().isoformat()}")
        event(page, "Reiher").wait_for()
        page.goto(f"{base}/calendar/?view=month&date={monday.isoformat()}")
        event(page, "Kranich").wait_for()
        screenshot(page, f"calendar-9-month-phone-{locale}")
        page.locator(f'.ec-day:has(time[datetime="{monday.isoformat()}"])').click(position={"x": 10, "y": 5})
        page.wait_for_url(re.compile(r"view=day"))
        card = event(page, "Kranich")
        card.wait_for()

        # Keyboard only: focus the appointment, Enter opens it; no no-show before it has begun.
        card.focus()
        page.keyboard.press("Enter")
        dialog = page.locator("#appt-dialog")
        dialog.wait_for()
        when = dialog.locator("[data-f=when]").inner_text()
        assert when == f"{dialog_date(next_monday(), english)}, 10:00–10:30"
        expect(dialog.get_by_role("button", name="No-show" if english else "Nicht erschienen")).to_be_hidden()
        dialog.get_by_text("Change length" if english else "Länge ändern", exact=True).click()
        dialog.locator("#resize-minutes").fill("45")
        page.keyboard.press("Enter")
        card.filter(has_text="10:00–10:45").wait_for()
        card.focus()
        page.keyboard.press("Enter")
        dialog.get_by_text("Move" if english else "Verschieben", exact=True).click()
        dialog.locator("#move-time").fill("16:00")
        page.keyboard.press("Enter")
        card.filter(has_text="16:00–16:45").wait_for()
        screenshot(page, f"calendar-10-day-phone-{locale}")
        kranich = next(a for a in appointments(business) if a.customer.last_name == "Kranich")
        assert (kranich.start, kranich.end) == (
            next_monday().replace(hour=16),
            next_monday().replace(hour=16, minute=45),
        )

        # Block time without dragging: the button and its form.
        page.get_by_role("button", name="Block time" if english else "Zeit blockieren").first.click()
        block = page.locator("#block-dialog")
        block.locator("#block-time").fill("12:00")
        block.locator("#block-until").fill("13:00")
        block.locator("#block-reason").fill("Pause")
        block.locator("#block-reason").press("Enter")
        event(page, "Pause").first.wait_for()

        # Once it has begun, an appointment can be marked as a no-show.
        page.goto(f"{base}/calendar/?date={past.date().isoformat()}")
        event(page, "Reiher").click()
        dialog.get_by_role("button", name="No-show" if english else "Nicht erschienen").click()
        page.locator(".ec-event.status-no_show").wait_for()
        assert [(a.customer.last_name, a.status) for a in appointments(business)] == [
            ("Reiher", "no_show"),
            ("Kranich", "confirmed"),
        ]
    finally:
        context.close()


@pytest.mark.clock
@pytest.mark.parametrize(
    ("device", "locale"), [(PHONE, "de-DE"), (DESKTOP, "en-GB")], ids=["phone-de", "desktop-en"]
)
def test_book_for_this_customer_from_the_customer_page(live_site, browser, device, locale):
    business, service, staff, customer, base, context, page = open_calendar(
        live_site, browser, device, locale
    )
    name = "phone-de" if device is PHONE else "desktop-en"
    try:
        page.goto(f"{base}/customers/{customer.pk}/")
        page.get_by_role(
            "link", name="Für diesen Kunden buchen" if locale == "de-DE" else "Book for this customer"
        ).click()
        page.wait_for_url(re.compile(rf"customer={customer.pk}"))
        banner = page.locator("[data-booking-for]")
        assert "Lena Vogel" in banner.inner_text()
        page.locator(".ec-body .ec-day").first.wait_for()
        page.locator("button.ec-next").click()
        page.wait_for_load_state("networkidle")
        # Forward until the Monday of the test.
        while next_monday().date().isoformat() not in page.url:
            page.locator("button.ec-next").click()
        click_at(page, point(page, 0, "13:00"))
        dialog = page.locator("#book-dialog")
        assert dialog.locator("[data-chosen-name]").inner_text() == "Lena Vogel"
        dialog.locator("#book-service").select_option(str(service.pk))
        screenshot(page, f"calendar-11-book-for-customer-{name}")
        dialog.locator("form button[type=submit]").click()
        event(page, "Lena Vogel").wait_for()
        assert banner.is_hidden()
        with schema_context(business.schema):
            lena = Appointment.objects.get(customer=customer)
            assert (lena.start, lena.allocations.get().resource_id) == (
                next_monday().replace(hour=13),
                staff[0].pk,
            )
    finally:
        context.close()
