"""The customer's side of the waitlist in a real browser: no time suits on the booking page, so the customer
joins the waitlist; a staff cancellation (a real Celery worker matches it) sends the offer by e-mail; the
customer opens the link and books the time. Texts are read through the catalogue, so the German run reads
what a German customer reads."""

import re
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.db import connection
from django.utils import translation
from django_tenants.utils import schema_context

from termino import celery_app
from termino.tenants.scheduling.models import Appointment, AppointmentStatus
from termino.tenants.waitlist.models import Entry
from tests.conftest import unique_slug
from tests.tenants.backoffice.helpers import log_in_as
from tests.tenants.waitlist.helpers import tight_day

from .conftest import DESKTOP, PHONE, screenshot

pytestmark = pytest.mark.browser

MSGIDS = {
    "join": "Join the waitlist",
    "morning": "Morning",
    "joined": (
        "You are on the waitlist for {service}. We will write to you as soon as a suitable time becomes free."
    ),
    "book": "Book this time",
    "booked": "Your appointment is booked. The confirmation is on its way to you.",
    "taken": "Sorry, this time has already been taken. You stay on the waitlist.",
}


def texts(lang: str) -> dict[str, str]:
    with translation.override(lang):
        return {key: translation.gettext(msgid) for key, msgid in MSGIDS.items()}


def _wait(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize(("lang", "device"), [("en", DESKTOP), ("de", PHONE)], ids=["desktop-en", "phone-de"])
def test_join_the_waitlist_get_the_offer_and_book_it(live_site, browser, lang, device):
    business = live_site["provision"](unique_slug("wl"))
    with schema_context(business.schema):
        service, _staff, start, booked = tight_day()
    connection.set_schema_to_public()
    base = f"http://{business.host}:{live_site['port']}"
    text = texts(lang)
    email = f"lena-{lang}@example.com"
    context = browser.new_context(locale={"en": "en-GB", "de": "de-DE"}[lang], **device)
    page = context.new_page()
    try:
        page.goto(f"{base}/book/")
        page.get_by_role("button", name=re.compile(service.name)).click()
        page.locator('[data-picker][aria-busy="false"]').wait_for()
        page.get_by_role("button", name=text["join"]).click()
        monday = start.date().isoformat()
        page.locator("#wl-date-from").fill(monday)
        page.locator("#wl-date-to").fill(monday)
        page.locator(".bk-wl-choice", has_text=text["morning"]).click()
        page.locator("#wl-first-name").fill("Lena")
        page.locator("#wl-last-name").fill("Fischer")
        page.locator("#wl-email").fill(email)
        page.locator("#wl-privacy-consent").check()
        screenshot(page, f"waitlist-1-join-{lang}")
        page.locator("[data-waitlist-submit]").click()
        page.get_by_text(text["joined"].replace("{service}", service.name)).wait_for()
        screenshot(page, f"waitlist-2-joined-{lang}")
        with schema_context(business.schema):
            entry = Entry.objects.get()
            assert (entry.date_from, entry.date_to, entry.day_parts) == (
                start.date(),
                start.date(),
                ["morning"],
            )
        connection.set_schema_to_public()

        mail.outbox.clear()
        owner = log_in_as(business)
        with start_worker(celery_app, perform_ping_check=False, loglevel="WARNING"):
            cancelled = owner.post(
                f"/api/v1/appointments/{booked.pk}/cancel/", content_type="application/json"
            )
            assert cancelled.status_code == 200, cancelled.content
            assert _wait(lambda: any(email in m.to for m in mail.outbox)), "no offer reached the customer"
        offer_mail = next(m for m in mail.outbox if email in m.to)
        link = re.search(r"https?://\S+/book/waitlist/offer/[\w-]+/", offer_mail.body)[0]
        assert link.startswith(f"http://{business.host}")

        page.goto(link)
        page.get_by_role("button", name=text["book"]).wait_for()
        screenshot(page, f"waitlist-3-offer-{lang}")
        page.get_by_role("button", name=text["book"]).click()
        page.get_by_text(text["booked"]).wait_for()
        screenshot(page, f"waitlist-4-booked-{lang}")
    finally:
        context.close()
    with schema_context(business.schema):
        appointment = Appointment.objects.get(status=AppointmentStatus.CONFIRMED)
        assert appointment.start == start and appointment.customer.email == email
