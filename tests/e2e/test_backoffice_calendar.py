"""A receptionist's day in the calendar: book a caller into the next free slot, book into an empty time for
a new customer, move an appointment, and see the reason when a move collides."""

import re
from datetime import time, timedelta

import pytest
from django_tenants.utils import schema_context

from termino.shared import timeutils
from termino.tenants.crm.models import Customer
from termino.tenants.scheduling import services as scheduling
from termino.tenants.scheduling.models import Appointment
from tests.conftest import PASSWORD, unique_slug
from tests.tenants.scheduling.factories import BERLIN, next_monday, salon

from .conftest import DESKTOP, PHONE, screenshot

pytestmark = pytest.mark.browser


def open_calendar(live_site, browser, device=DESKTOP):
    business = live_site["provision"](unique_slug())
    with schema_context(business.schema):
        service, staff, _room = salon(name="Haarschnitt", min_notice_minutes=0)
        customer = Customer.objects.create(first_name="Lena", last_name="Vogel", phone="+4917612345678")
        scheduling.appointment_create(
            booking=scheduling.Booking(service=service, start=next_monday(), staff=staff[1]),
            customer=Customer.objects.create(first_name="Paul", last_name="Kranich"),
        )
    base = f"http://{business.host}:{live_site['port']}"
    context = browser.new_context(locale="en-GB", **device)
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", business.owner_username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(f"{base}/")
    return business, service, staff, customer, base, context, page


def appointments(business):
    with schema_context(business.schema):
        return list(Appointment.objects.select_related("customer").order_by("start"))


@pytest.mark.clock
def test_book_a_caller_into_the_next_free_slot_then_move_the_appointment(live_site, browser):
    business, service, staff, customer, base, context, page = open_calendar(live_site, browser)
    try:
        monday = next_monday().date().isoformat()
        page.goto(f"{base}/calendar/?date={monday}")
        page.locator(".cal-col").first.wait_for()
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
        page.wait_for_load_state("load")
        page.locator("#book-dialog[open]").wait_for(state="detached")
        booked = [a for a in appointments(business) if a.customer_id == customer.pk]
        assert len(booked) == 1

        # A new customer calls for Monday 14:00 with Staff 1: click the empty time in that column.
        page.goto(f"{base}/calendar/?date={monday}")
        column = page.locator(f'.cal-col[data-resource="{staff[0].pk}"]')
        first_minute = int(page.locator(".cal").get_attribute("data-first-minute"))
        column.click(position={"x": 30, "y": (14 * 60 - first_minute) * 1.2 + 3})
        assert dialog.locator("#book-time").input_value() == "14:00"
        dialog.locator("#book-service").select_option(str(service.pk))
        dialog.get_by_label("First name").fill("Nina")
        dialog.get_by_label("Last name").fill("Neu")
        dialog.get_by_label("Phone").fill("0171 2345678")
        dialog.get_by_role("button", name="Book", exact=True).click()
        page.locator(".cal-appt", has_text="Nina Neu").wait_for()
        nina = next(a for a in appointments(business) if a.customer and a.customer.last_name == "Neu")
        assert nina.start == next_monday().replace(hour=14)
        assert nina.customer.phone == "+491712345678"

        # Move Nina to 10:00 with Staff 2: Paul Kranich is there, so the dialog says why not.
        page.locator(".cal-appt", has_text="Nina Neu").click()
        appt = page.locator("#appt-dialog")
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
        page.locator(".cal-appt", has_text="Nina Neu").filter(has_text="15:30").wait_for()
        nina = next(a for a in appointments(business) if a.pk == nina.pk)
        assert nina.start == next_monday().replace(hour=15, minute=30)
        with schema_context(business.schema):
            assert list(nina.allocations.values_list("resource_id", flat=True)) == [staff[1].pk]
    finally:
        context.close()


def test_calendar_on_a_phone(live_site, browser):
    business, service, staff, _customer, base, context, page = open_calendar(live_site, browser, PHONE)
    # Monday of this week at 09:00 has passed at the pinned "now" (a Wednesday 10:00, tests/clock.py).
    today = timeutils.today(BERLIN)
    past = timeutils.local_at(today - timedelta(days=today.weekday()), time(9), BERLIN)
    assert past < timeutils.now()
    with schema_context(business.schema):
        scheduling.appointment_create(
            booking=scheduling.Booking(service=service, start=past, staff=staff[0]),
            customer=Customer.objects.create(first_name="Ida", last_name="Reiher"),
        )
    try:
        # Ahead of its start an appointment cannot be a no-show, so the dialog does not offer it.
        page.goto(f"{base}/calendar/?date={next_monday().date().isoformat()}")
        page.locator(".cal-appt", has_text="Kranich").click()
        dialog = page.locator("#appt-dialog")
        dialog.wait_for()
        assert not dialog.get_by_role("button", name="No-show").is_visible()
        dialog.locator("[data-close]").first.click()

        page.goto(f"{base}/calendar/?date={past.date().isoformat()}")
        page.locator(".cal-appt", has_text="Reiher").click()
        dialog.get_by_role("button", name="No-show").click()
        page.locator(".cal-appt.status-no_show").wait_for()
        screenshot(page, "calendar-phone")
        assert [(a.customer.last_name, a.status) for a in appointments(business)] == [
            ("Reiher", "no_show"),
            ("Kranich", "confirmed"),
        ]
    finally:
        context.close()
