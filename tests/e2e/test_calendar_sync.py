"""In a real browser: a staff member connects her calendar (a real Radicale) on "My calendar", sees it
connected, her busy time there leaves the booking page, and she makes her subscription address; a wrong
password shows its state in words. German on a desktop, and the page fits a phone."""

import time
from datetime import time as clock

import pytest
from celery.contrib.testing.worker import start_worker
from playwright.sync_api import expect

from termino import celery_app
from tests.conftest import PASSWORD, client_for, unique_slug
from tests.tenants.calendars.helpers import team
from tests.tenants.calendars.radicale_server import PASSWORD as DAV_PASSWORD
from tests.tenants.calendars.radicale_server import RadicaleServer, event_ics
from tests.tenants.scheduling.factories import next_monday

from .conftest import DESKTOP, PHONE, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def radicale(tmp_path, settings):
    settings.CALDAV_ALLOW_PRIVATE_HOSTS = True  # Radicale listens on loopback
    settings.CALDAV_MIN_PULL_SECONDS = 0
    with RadicaleServer(tmp_path) as server:
        yield server


def _free(business, service, staff) -> set[str]:
    day = next_monday().date().isoformat()
    response = client_for(business.host).get(
        f"/api/public/v1/availability/?service={service.pk}&start={day}&end={day}&resource={staff.pk}"
    )
    return {slot["start"][11:16] for slot in response.json()["slots"]}


def test_staff_member_connects_her_calendar(live_site, browser, radicale):
    business = live_site["provision"](unique_slug())
    service, anna, _ben, (anna_user, _) = team(business)
    url = radicale.make_calendar("anna", "arbeit")
    radicale.put_event(
        "anna", "arbeit", event_ics("zahnarzt", next_monday(clock(10)), next_monday(clock(12)))
    )
    base = f"http://{business.host}:{live_site['port']}"
    context = browser.new_context(locale="de-DE", **DESKTOP)
    page = context.new_page()
    celery_app.control.purge()  # what provisioning queued (refilling spare schemas) is not this test's
    try:
        with start_worker(celery_app, perform_ping_check=False, loglevel="WARNING"):
            page.goto(f"{base}/login/")
            page.locator("#id_username").fill(anna_user.username)
            page.locator("#id_password").fill(PASSWORD)
            page.locator("form button[type=submit]").last.click()
            page.wait_for_url(f"{base}/")
            page.goto(f"{base}/account/password/")
            page.get_by_role("link", name="Mein Kalender").click()
            page.wait_for_url(f"{base}/account/calendar/")

            # A wrong password first: the page says so in words.
            page.get_by_label("Kalenderadresse (CalDAV-URL)").fill(url)
            page.get_by_label("Benutzername").fill("anna")
            page.get_by_label("App-Passwort").fill("vertippt")
            page.get_by_role("button", name="Kalender verbinden").click()
            page.wait_for_url(f"{base}/account/calendar/")
            for _ in range(50):
                if page.locator('[data-state="auth_failed"]').count():
                    break
                time.sleep(0.2)
                page.reload()
            expect(page.get_by_text("Benutzername oder Passwort abgelehnt", exact=True)).to_be_visible()
            expect(page.get_by_text("Der Kalender hat Benutzername oder Passwort abgelehnt")).to_be_visible()
            screenshot(page, "calendar-sync-1-wrong-password")

            page.get_by_label("App-Passwort").fill(DAV_PASSWORD)
            page.get_by_role("button", name="Kalender verbinden").click()
            for _ in range(50):
                if page.locator('[data-state="ok"]').count():
                    break
                time.sleep(0.2)
                page.reload()
            assert page.locator('[data-state="ok"]').inner_text().strip() == "Verbunden"
            assert "10:00" not in _free(business, service, anna)

            page.get_by_role("button", name="Abo-Adresse erstellen").click()
            page.wait_for_url(f"{base}/account/calendar/")
            feed_url = page.locator("#feed-link").input_value()
            assert feed_url.startswith(f"{base}/calendar/") and feed_url.endswith(".ics")
            feed = client_for(business.host).get(feed_url.removeprefix(base))
            assert feed.status_code == 200 and feed["Content-Type"].startswith("text/calendar")
            assert (
                page.get_by_role("link", name="Auf diesem Gerät abonnieren")
                .get_attribute("href")
                .startswith("webcal://")
            )
            screenshot(page, "calendar-sync-2-connected")

            phone = browser.new_context(locale="de-DE", **PHONE)
            phone.add_cookies(context.cookies())
            mobile = phone.new_page()
            mobile.goto(f"{base}/account/calendar/")
            mobile.locator('[data-state="ok"]').wait_for()
            assert mobile.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            screenshot(mobile, "calendar-sync-3-phone")
            phone.close()
    finally:
        context.close()
