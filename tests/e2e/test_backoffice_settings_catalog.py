"""The weekly hours editor in a real browser: add, remove and copy rows, save; and the pages on a phone."""

from datetime import time, timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from termino.tenants.scheduling.models import Closure, Resource, WeeklyHours
from tests.conftest import unique_slug
from tests.tenants.scheduling.factories import salon

from .conftest import DESKTOP, PHONE, screenshot

pytestmark = pytest.mark.browser


def open_backoffice(live_site, browser, device):
    business = live_site["provision"](unique_slug())
    base = f"http://{business.host}:{live_site['port']}"
    context = browser.new_context(locale="en-GB", **device)
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.fill("#id_username", business.owner_username)
    page.fill("#id_password", business.password)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")
    return business, base, context, page


def day(page, number):
    return page.locator(f'fieldset[data-day="{number}"]')


def test_opening_hours_editor(live_site, browser):
    business, base, context, page = open_backoffice(live_site, browser, DESKTOP)
    with schema_context(business.schema):
        WeeklyHours.objects.create(weekday=4, start=time(9), end=time(17))
    try:
        page.goto(f"{base}/settings/hours/")
        # The spare empty rows are gone; a day without times says so.
        assert day(page, 0).locator("[data-row]").count() == 0
        expect(day(page, 0).get_by_text("Closed")).to_be_visible()
        assert day(page, 4).locator("[data-row]").count() == 1
        monday = day(page, 0)
        monday.get_by_role("button", name="Add time on Monday").click()
        focused = page.evaluate("document.activeElement.name")
        assert focused.startswith("d0-") and focused.endswith("-start")  # focus moves to the new row
        monday.get_by_label("Monday, from").last.fill("09:00")
        monday.get_by_label("Monday, until").last.fill("12:30")
        monday.get_by_role("button", name="Add time on Monday").click()
        monday.get_by_label("Monday, from").last.fill("13:30")
        monday.get_by_label("Monday, until").last.fill("18:00")
        day(page, 1).get_by_role("button", name="Same as the day before").click()
        assert day(page, 1).locator("[data-row]").count() == 2
        # Friday's saved interval is removed: the day becomes closed.
        day(page, 4).locator("[data-remove]").click()
        expect(day(page, 4).get_by_text("Closed")).to_be_visible()
        screenshot(page, "settings-hours-desktop")
        page.get_by_role("button", name="Save opening hours").click()
        page.get_by_text("The opening hours are saved.").wait_for()
        with schema_context(business.schema):
            saved = list(WeeklyHours.objects.filter(resource=None).values_list("weekday", "start", "end"))
        assert saved == [
            (0, time(9), time(12, 30)),
            (0, time(13, 30), time(18)),
            (1, time(9), time(12, 30)),
            (1, time(13, 30), time(18)),
        ]

        # An overlap comes back with the rows as typed and the message at the day.
        monday.get_by_role("button", name="Add time on Monday").click()
        monday.get_by_label("Monday, from").last.fill("12:00")
        monday.get_by_label("Monday, until").last.fill("14:00")
        page.get_by_role("button", name="Save opening hours").click()
        day(page, 0).get_by_text("09:00–12:30 and 12:00–14:00 overlap.").wait_for()
        assert day(page, 0).locator("[data-row]").count() == 3
    finally:
        context.close()


def test_staff_hours_follow_the_opening_hours_until_own_ones_are_chosen(live_site, browser):
    business, base, context, page = open_backoffice(live_site, browser, DESKTOP)
    with schema_context(business.schema):
        _service, (anna, *_), _room = salon(staff_count=1)
    try:
        page.goto(f"{base}/settings/resources/{anna.pk}/hours/")
        editor = page.locator("[data-hours-editor]")
        assert page.get_by_label("Same as the opening hours").is_checked()
        expect(editor).to_be_hidden()
        page.get_by_label("Own working hours").check()
        expect(editor).to_be_visible()
        day(page, 2).get_by_role("button", name="Add time on Wednesday").click()
        day(page, 2).get_by_label("Wednesday, from").last.fill("12:00")
        day(page, 2).get_by_label("Wednesday, until").last.fill("20:00")
        page.get_by_role("button", name="Save working hours").click()
        page.get_by_text("The working hours of Staff 1 are saved.").wait_for()
        # Bookable: only within the opening hours (09:00–18:00), and nothing on the other days.
        bookable = page.locator("section", has=page.get_by_role("heading", name="Bookable times"))
        assert "12:00–18:00" in bookable.inner_text()
        screenshot(page, "settings-resource-hours-desktop")
    finally:
        context.close()


def test_catalogue_pages_on_a_phone(live_site, browser):
    business, base, context, page = open_backoffice(live_site, browser, PHONE)
    with schema_context(business.schema):
        service, (anna, _ben), _room = salon()
        soon = timezone.now() + timedelta(days=1)
        Closure.objects.create(resource=anna, start=soon, end=soon + timedelta(days=2), reason="Urlaub")
        Resource.objects.create(kind="room", name="Kabine 2", active=False)
    try:
        for path, name in [
            ("/settings/services/", "services"),
            (f"/settings/services/{service.pk}/", "service-form"),
            ("/settings/rooms/", "resources"),
            ("/settings/hours/", "hours"),
            ("/settings/closures/", "closures"),
        ]:
            page.goto(f"{base}{path}")
            # Nothing wider than the phone, apart from tables that scroll inside their own frame.
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["viewport"]["width"], (path, width)
            screenshot(page, f"settings-{name}-phone")
    finally:
        context.close()


def test_open_until_midnight_and_a_night_across_it_on_a_phone(live_site, browser):
    """The time input shows 00:00; the note next to it says 24:00 while typing; the night takes two rows."""
    business, base, context, page = open_backoffice(live_site, browser, PHONE)
    try:
        page.goto(f"{base}/settings/hours/")
        expect(page.get_by_text("Open until midnight? Enter 00:00 as the end")).to_be_visible()
        friday, saturday = day(page, 4), day(page, 5)
        friday.get_by_role("button", name="Add time on Friday").click()
        note = friday.locator("[data-midnight]").last
        friday.get_by_label("Friday, from").last.fill("22:00")
        friday.get_by_label("Friday, until").last.fill("06:00")
        expect(note).to_be_hidden()
        page.get_by_role("button", name="Save opening hours").click()
        page.get_by_text(
            "An interval cannot run past midnight. Enter 22:00–24:00 on Friday and 00:00–06:00 on Saturday."
        ).wait_for()
        friday, saturday = day(page, 4), day(page, 5)
        friday.get_by_label("Friday, until").last.fill("00:00")
        expect(friday.locator("[data-midnight]").last).to_be_visible()  # "Until 24:00 (midnight)"
        saturday.get_by_role("button", name="Add time on Saturday").click()
        saturday.get_by_label("Saturday, from").last.fill("00:00")
        saturday.get_by_label("Saturday, until").last.fill("06:00")
        expect(saturday.locator("[data-midnight]").last).to_be_hidden()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]
        screenshot(page, "settings-hours-midnight-phone")
        page.get_by_role("button", name="Save opening hours").click()
        page.get_by_text("The opening hours are saved.").wait_for()
        with schema_context(business.schema):
            saved = list(WeeklyHours.objects.filter(resource=None).values_list("weekday", "start", "end"))
        assert saved == [(4, time(22), time(0)), (5, time(0), time(6))]
        # Back on the page: the saved midnight shows as 00:00 with its note.
        assert day(page, 4).get_by_label("Friday, until").input_value() == "00:00"
        expect(day(page, 4).locator("[data-midnight]").first).to_be_visible()
    finally:
        context.close()
