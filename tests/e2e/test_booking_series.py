"""The booking page, a customer booking a course (four weekly appointments with one teacher): the card says
it is a course, a start is offered only where all four dates are free, the dates are shown before booking
and after it, and the manage link cancels the appointments still to come."""

from datetime import time as clock
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation
from django.utils.formats import date_format
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from termino.shared import timeutils
from termino.tenants.scheduling import lifecycle
from termino.tenants.scheduling import services as scheduling
from termino.tenants.scheduling.events import Actor
from termino.tenants.scheduling.models import Appointment, Series, Service
from tests.conftest import unique_slug
from tests.tenants.scheduling.factories import next_monday, salon

from .conftest import DESKTOP, PHONE, screenshot
from .test_booking_flow import fill_details, go_to_monday, texts

pytestmark = [pytest.mark.browser, pytest.mark.clock]
BERLIN = ZoneInfo("Europe/Berlin")

COURSE = {
    "label": ("Course: %(count)d appointments, %(every)s", {"en": "weekly", "de": "wöchentlich"}),
    "book_all": "Book all {count} appointments",
    "done": "Your course is booked",
    "dates": "Your {count} appointments:",
    "cancel": "Cancel the appointments to come",
    "cancel_yes": "Yes, cancel the appointments to come",
    "cancelled": "The appointments of your course still to come have been cancelled.",
}


def course_texts(lang: str) -> dict[str, str]:
    with translation.override(lang):
        label, every = COURSE["label"]
        return {
            "label": translation.ngettext(label.replace("appointments", "appointment"), label, 4)
            % {"count": 4, "every": every[lang]},
            **{
                key: translation.gettext(msgid).replace("{count}", "4")
                for key, msgid in COURSE.items()
                if key != "label"
            },
        }


def long_date(moment, lang: str) -> str:
    """The day as the page writes it, in part: "18 January 2027" / "18. Januar 2027" (Intl, en-GB / de-DE)."""
    with translation.override(lang):
        return date_format(timeutils.localtime(moment, BERLIN), "j. F Y" if lang == "de" else "j F Y")


@pytest.mark.parametrize(("lang", "device"), [("en", DESKTOP), ("de", PHONE)], ids=["desktop-en", "phone-de"])
def test_a_customer_books_a_course_and_sees_all_its_dates(live_site, browser, lang, device):
    business = live_site["provision"](unique_slug())
    with schema_context(business.schema):
        _yoga, (anna,), _room = salon(
            staff_count=1, name="Yoga für Anfänger", duration_minutes=60, online_series_count=4, price="0"
        )
        single = Service.objects.create(name="Einzelstunde", duration_minutes=60, min_notice_minutes=0)
        single.resources.set([anna])
        start = next_monday(clock(10))
        first = timeutils.local_date(start, BERLIN)
        # 10:00 local each week, whichever side of a clock change a date falls on.
        dates = [timeutils.local_at(first + timedelta(weeks=k), clock(10), BERLIN) for k in range(4)]
        # Anna teaches someone alone at 11:00 in the third week: the 11:00 course is not offered.
        lifecycle.appointment_book(
            actor=Actor(source="backoffice"),
            booking=scheduling.Booking(service=single, start=dates[2] + timedelta(hours=1), staff=anna),
        )
    text = texts(lang, business.tenant.name)
    course = course_texts(lang)
    context = browser.new_context(locale={"en": "en-GB", "de": "de-DE"}[lang], **device)
    page = context.new_page()
    base = f"http://{business.host}:{live_site['port']}"
    try:
        page.goto(f"{base}/book/")
        page.get_by_role("heading", name=text["book"]).wait_for()
        card = page.locator("[data-service]", has_text="Yoga für Anfänger")
        assert course["label"] in card.inner_text()
        screenshot(page, f"course-1-services-{lang}")
        card.click()

        page.locator("[data-course-note]").get_by_text(course["label"]).wait_for()
        go_to_monday(page, text)
        page.get_by_role("button", name="10:00", exact=True).wait_for()
        assert not page.get_by_role("button", name="11:00", exact=True).count()
        screenshot(page, f"course-2-time-{lang}")
        page.get_by_role("button", name="10:00", exact=True).click()

        page.get_by_label(text["first_name"], exact=True).wait_for()
        shown = page.locator("[data-course-dates]")
        assert course["dates"] in shown.inner_text()
        assert shown.locator("li").count() == 4
        for moment in dates:
            assert long_date(moment, lang) in shown.inner_text(), shown.inner_text()
        fill_details(page, text, f"lena-kurs-{lang}@example.com")
        screenshot(page, f"course-3-details-{lang}")
        page.get_by_role("button", name=course["book_all"]).click()

        page.get_by_role("heading", name=course["done"]).wait_for()
        done = page.locator("[data-done-dates]")
        assert done.locator("li").count() == 4
        for moment in dates:
            assert long_date(moment, lang) in done.inner_text()
        screenshot(page, f"course-4-done-{lang}")
        manage_href = page.get_by_role("link", name=text["manage"]).get_attribute("href")

        # The manage link lists the four dates and cancels those to come.
        page.goto(manage_href)
        page.locator("[data-part=dates] li").nth(3).wait_for()
        expect(page.get_by_role("button", name=text["new_time"])).to_be_hidden()
        page.get_by_role("button", name=course["cancel"]).click()
        page.get_by_role("button", name=course["cancel_yes"]).click()
        page.locator("[data-part=message]").get_by_text(course["cancelled"]).wait_for()
        screenshot(page, f"course-5-cancelled-{lang}")
    finally:
        context.close()
    with schema_context(business.schema):
        (series,) = Series.objects.all()
        booked = list(Appointment.objects.filter(series=series).order_by("start"))
        assert [a.start for a in booked] == dates
        assert {a.status for a in booked} == {"cancelled"}
        assert manage_href.endswith(f"/book/manage/{booked[0].manage_token}/")
