"""A salon books "cut + colour" for one customer in the calendar's booking dialog (a visit: two services back
to back with the same stylist), then books another customer's cut into the stylist's free time while the
colour works, and finally cancels the whole visit from one of its appointments."""

import re
from datetime import time

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from termino.shared import timeutils
from termino.tenants.crm.models import Consent, Customer
from termino.tenants.scheduling.models import Appointment, Service
from tests.conftest import unique_slug
from tests.tenants.scheduling.factories import BERLIN, next_monday, salon

from .conftest import screenshot
from .test_backoffice_series import DESKTOP, log_in

pytestmark = pytest.mark.browser

WORDS = {
    "en-GB": {
        "new": "New appointment",
        "search": "Search customers",
        "add": "+ Add another service to this visit",
        "then": "Then",
        "book": "Book visit",
        "booked": "Visit booked: 2 services back to back.",
        "repeat": "Repeat",
        "single": "Book",
        "one_booked": "Appointment booked.",
        "visit": "Visit",
        "cancel": "Cancel appointment",
        "whole": "Cancel the whole visit (2)",
        "cancelled": "Visit cancelled.",
        "processing": "Processing time 10:45–11:15",
    },
    "de-DE": {
        "new": "Neuer Termin",
        "search": "Kunden suchen",
        "add": "+ Weitere Leistung zu diesem Besuch hinzufügen",
        "then": "Danach",
        "book": "Besuch buchen",
        "booked": "Besuch gebucht: 2 Leistungen direkt nacheinander.",
        "repeat": "Wiederholen",
        "single": "Buchen",
        "one_booked": "Termin gebucht.",
        "visit": "Besuch",
        "cancel": "Termin absagen",
        "whole": "Den ganzen Besuch absagen (2)",
        "cancelled": "Besuch abgesagt.",
        "processing": "Einwirkzeit 10:45–11:15",
    },
}


def open_booking(page, service, day, at, staff):
    page.get_by_role("button", name=page.words["new"]).click()
    dialog = page.locator("#book-dialog")
    dialog.locator("#book-service").select_option(str(service.pk))
    dialog.locator("#book-date").fill(day.isoformat())
    dialog.locator("#book-time").fill(at)
    dialog.locator("#book-staff").select_option(str(staff.pk))
    return dialog


def choose_customer(dialog, words, query, name):
    dialog.get_by_label(words["search"]).fill(query)
    dialog.get_by_role("option", name=re.compile(name)).click()


@pytest.mark.parametrize("locale", list(WORDS))
def test_cut_and_colour_as_one_visit_with_the_gap_used_and_the_visit_cancelled(live_site, browser, locale):
    words = WORDS[locale]
    business = live_site["provision"](unique_slug("vb"))
    first = next_monday(time(10))
    day = timeutils.local_date(first, BERLIN)
    with schema_context(business.schema):
        cut, (anna, _ben), _room = salon(name="Schnitt", duration_minutes=30)
        # Colour: 15 min applying, 30 min working (the stylist is free), 15 min rinsing.
        colour = Service.objects.create(
            name="Farbe", duration_minutes=60, processing_after_minutes=15, processing_minutes=30
        )
        colour.resources.set([anna, _ben])
        for first_name, last_name in (("Lena", "Vogel"), ("Paul", "Kranich")):
            customer = Customer.objects.create(first_name=first_name, last_name=last_name)
            Consent.objects.create(customer=customer, kind="privacy", granted=True, source="test")
    base = f"http://{business.host}:{live_site['port']}"
    context = browser.new_context(locale=locale, **DESKTOP)
    page = context.new_page()
    page.words = words
    try:
        log_in(page, base, business)
        page.goto(f"{base}/calendar/?date={day.isoformat()}")
        page.locator(".ec-body .ec-day").first.wait_for()

        dialog = open_booking(page, cut, day, "10:00", anna)
        choose_customer(dialog, words, "vog", "Lena Vogel")
        dialog.get_by_role("button", name=words["add"]).click()
        part = dialog.locator(".visit-part")
        # The stylist of the first service is proposed for the next one; a visit is not repeated.
        expect(part.get_by_label(words["then"])).to_be_focused()
        assert part.locator("select[name=more_staff]").input_value() == str(anna.pk)
        expect(dialog.locator("summary", has_text=words["repeat"])).to_be_hidden()
        part.get_by_label(words["then"]).select_option(str(colour.pk))
        screenshot(page, f"visit-1-dialog-{locale}")
        dialog.get_by_role("button", name=words["book"]).click()
        page.locator("#book-dialog[open]").wait_for(state="detached")
        page.locator(".cal-notice", has_text=words["booked"]).wait_for()
        with schema_context(business.schema):
            visit = list(Appointment.objects.filter(visit__isnull=False).order_by("start"))
        assert [(a.service_id, timeutils.wall_time(a.start, BERLIN)) for a in visit] == [
            (cut.pk, "10:00"),
            (colour.pk, "10:30"),
        ]
        assert visit[0].visit_id == visit[1].visit_id
        # The colour shows when it works on its own: a pale band over its middle, and the time in words.
        colour_event = page.locator(".ec-event.cal-processing", has_text="Farbe")
        expect(colour_event).to_contain_text(words["processing"])
        band = colour_event.evaluate(
            "e => [getComputedStyle(e).getPropertyValue('--gap-from').trim(),"
            " getComputedStyle(e).getPropertyValue('--gap-to').trim(), getComputedStyle(e).backgroundImage]"
        )
        assert band[:2] == ["25.00%", "75.00%"] and "linear-gradient" in band[2], band
        expect(page.locator(".ec-event.cal-processing")).to_have_count(1)  # the cut has no such band

        # While the colour works (10:45–11:15) Anna cuts Paul's hair: the dialog books it.
        dialog = open_booking(page, cut, day, "10:45", anna)
        choose_customer(dialog, words, "kran", "Paul Kranich")
        expect(dialog.get_by_role("button", name=words["single"], exact=True)).to_be_visible()
        dialog.get_by_role("button", name=words["single"], exact=True).click()
        page.locator(".cal-notice", has_text=words["one_booked"]).wait_for()
        expect(page.locator(".ec-event", has_text="Paul Kranich")).to_have_count(1)
        screenshot(page, f"visit-2-gap-used-{locale}")

        # Lena cancels: the colour's dialog lists the visit and cancels both services.
        page.locator(".ec-event", has_text="Farbe").click()
        appt = page.locator("#appt-dialog")
        summary = appt.locator("[data-f=visit] li")
        expect(summary).to_have_count(2)
        expect(summary.nth(0)).to_have_text("10:00–10:30 Schnitt")
        expect(appt.locator("li[aria-current=true]")).to_have_text("10:30–11:30 Farbe")
        appt.locator("summary", has_text=words["cancel"]).click()
        expect(appt.get_by_label(words["whole"])).to_be_checked()
        appt.get_by_role("button", name=words["cancel"]).click()
        page.locator(".cal-notice", has_text=words["cancelled"]).wait_for()
        with schema_context(business.schema):
            statuses = {
                a.customer.last_name: a.status for a in Appointment.objects.select_related("customer")
            }
            lena = list(
                Appointment.objects.filter(visit_id=visit[0].visit_id).values_list("status", flat=True)
            )
        assert lena == ["cancelled", "cancelled"]
        assert statuses["Kranich"] == "confirmed"
    finally:
        context.close()
