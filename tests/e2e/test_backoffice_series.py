"""A physiotherapist books a six-week series in the calendar's booking dialog: "Repeat", check the dates, one
is taken, use the alternative offered, book all six at once; then cancels the last two from an
occurrence's dialog ("this and all following")."""

import re
from datetime import time, timedelta

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from termino.shared import timeutils
from termino.tenants.crm.models import Consent, Customer
from termino.tenants.scheduling import services as scheduling
from termino.tenants.scheduling.models import Appointment, Series
from tests.conftest import PASSWORD, unique_slug
from tests.tenants.scheduling.factories import BERLIN, next_monday, salon

from .conftest import screenshot

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1366, "height": 900}}

# What the dialog says, in each language of the backoffice.
WORDS = {
    "en-GB": {
        "new": "New appointment",
        "search": "Search customers",
        "repeat": "Repeat",
        "count": "Number of appointments",
        "check": "Check dates",
        "booked_by": "Staff 1 is already booked from 10:00 to 10:30 (Krankengymnastik)",
        "summary": "Dates to book: {} / 6",
        "use": "Use instead",
        "book": "Book series",
        "booked": "6 appointments booked.",
        "cancel": "Cancel appointment",
        "cancelled": "2 appointments cancelled.",
    },
    "de-DE": {
        "new": "Neuer Termin",
        "search": "Kunden suchen",
        "repeat": "Wiederholen",
        "count": "Anzahl der Termine",
        "check": "Termine prüfen",
        "booked_by": "Staff 1 ist bereits von 10:00 bis 10:30 gebucht (Krankengymnastik)",
        "summary": "Zu buchende Termine: {} / 6",
        "use": "Stattdessen:",
        "book": "Serie buchen",
        "booked": "6 Termine gebucht.",
        "cancel": "Termin absagen",
        "cancelled": "2 Termine abgesagt.",
    },
}


def log_in(page, base, business):
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", business.owner_username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(f"{base}/")


def series_rows(business):
    with schema_context(business.schema):
        made = Series.objects.get()
        return made, list(Appointment.objects.filter(series=made).order_by("start"))


@pytest.mark.clock
@pytest.mark.parametrize("locale", list(WORDS))
def test_six_week_series_with_one_conflict_resolved_in_the_dialog(live_site, browser, locale):
    words = WORDS[locale]
    business = live_site["provision"](unique_slug())
    first = next_monday(time(10))
    conflict_day = timeutils.local_date(first, BERLIN) + timedelta(weeks=3)
    with schema_context(business.schema):
        service, (anna, _ben), _room = salon(name="Krankengymnastik", min_notice_minutes=0)
        lena = Customer.objects.create(first_name="Lena", last_name="Vogel", email="lena@example.com")
        Consent.objects.create(customer=lena, kind="privacy", granted=True, source="test")
        scheduling.appointment_create(
            booking=scheduling.Booking(
                service=service, start=timeutils.local_at(conflict_day, time(10), BERLIN), staff=anna
            ),
            customer=Customer.objects.create(first_name="Paul", last_name="Kranich"),
        )
    base = f"http://{business.host}:{live_site['port']}"
    context = browser.new_context(locale=locale, **DESKTOP)
    page = context.new_page()
    try:
        log_in(page, base, business)
        page.goto(f"{base}/calendar/?date={first.date().isoformat()}")
        page.locator(".ec-body .ec-day").first.wait_for()
        page.get_by_role("button", name=words["new"]).click()
        dialog = page.locator("#book-dialog")
        dialog.locator("#book-service").select_option(str(service.pk))
        dialog.locator("#book-date").fill(first.date().isoformat())
        dialog.locator("#book-time").fill("10:00")
        dialog.locator("#book-staff").select_option(str(anna.pk))
        dialog.get_by_label(words["search"]).fill("vog")
        dialog.get_by_role("option", name=re.compile("Lena Vogel")).click()

        # Repeat: weekly on Mondays (ticked from the date), six times (the default).
        dialog.locator("summary", has_text=words["repeat"]).click()
        expect(dialog.locator("input[name=weekdays][value='0']")).to_be_checked()
        assert dialog.get_by_label(words["count"]).input_value() == "6"
        dialog.get_by_role("button", name=words["check"]).click()
        rows = dialog.locator("[data-series-dates] li")
        rows.nth(5).wait_for()
        assert rows.count() == 6
        assert dialog.locator("[data-series-dates] li.free").count() == 5
        taken = dialog.locator("[data-series-dates] li.taken")
        assert words["booked_by"] in taken.inner_text()
        expect(dialog.locator("[data-series-summary]")).to_have_text(words["summary"].format(5))
        screenshot(page, f"series-1-checked-{locale}")

        # The nearest free time that day is 09:30 (10:30 is as near; the earlier one is offered).
        use = taken.get_by_role("button", name=re.compile(words["use"]))
        assert "09:30" in use.inner_text()
        use.click()
        expect(dialog.locator("[data-series-summary]")).to_have_text(words["summary"].format(6))
        screenshot(page, f"series-2-alternative-{locale}")
        dialog.get_by_role("button", name=words["book"]).click()
        page.locator("#book-dialog[open]").wait_for(state="detached")
        page.locator(".cal-notice", has_text=words["booked"]).wait_for()

        made, occurrences = series_rows(business)
        assert len(occurrences) == 6
        assert {a.customer_id for a in occurrences} == {lena.pk}
        walls = [timeutils.localtime(a.start, BERLIN) for a in occurrences]
        assert [w.time() for w in walls] == [time(10)] * 3 + [time(9, 30)] + [time(10)] * 2
        assert walls[3].date() == conflict_day
        assert made.count == 6

        # Lena stops after four weeks: cancel the fifth and everything after it from its dialog.
        fifth = timeutils.local_date(occurrences[4].start, BERLIN)
        page.goto(f"{base}/calendar/?date={fifth.isoformat()}")
        page.locator(".ec-event", has_text="Lena Vogel").click()
        appt = page.locator("#appt-dialog")
        appt.locator("summary", has_text=words["cancel"]).click()
        appt.locator("#cancel-scope").select_option("following")
        appt.get_by_role("button", name=words["cancel"]).click()
        page.locator(".cal-notice", has_text=words["cancelled"]).wait_for()
        _made, occurrences = series_rows(business)
        assert [a.status for a in occurrences] == ["confirmed"] * 4 + ["cancelled"] * 2
    finally:
        context.close()
