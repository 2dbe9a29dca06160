"""In a real browser: the login history, the lockout page, the cookie page, and no page of the
backoffice or the booking page trips the Content-Security-Policy."""

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from tests.conftest import PASSWORD, unique_slug
from tests.tenants.scheduling.factories import salon

from .conftest import DESKTOP, PHONE, screenshot

pytestmark = pytest.mark.browser

PAGES = [
    "/",
    "/calendar/",
    "/customers/",
    "/settings/",
    "/people/",
    "/account/",
    "/account/logins/",
    "/account/tokens/",
    "/book/",
]


def log_in(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("form button[type=submit]").last.click()


def test_pages_keep_to_the_policy_and_the_owner_reads_the_login_history(live_site, browser):
    business = live_site["provision"](unique_slug())
    with schema_context(business.schema):
        salon()
    base = f"http://{business.host}:{live_site['port']}"
    context = browser.new_context(locale="en-GB", **DESKTOP)
    page = context.new_page()
    violations = []

    def on_console(message):
        if "Content Security Policy" in message.text:
            violations.append(message.text)

    page.on("console", on_console)
    try:
        log_in(page, base, business.owner_username, "not-the-password-1")
        expect(page.get_by_role("alert")).to_be_visible()
        log_in(page, base, business.owner_username, PASSWORD)
        page.wait_for_url(f"{base}/")
        for path in PAGES:
            page.goto(f"{base}{path}")
            page.wait_for_load_state("networkidle")
        assert violations == []

        page.goto(f"{base}/account/logins/")
        rows = page.locator("table.login-table tbody tr")
        assert rows.count() == 2
        expect(page.locator(".badge", has_text="Failed")).to_be_visible()
        expect(page.locator(".badge", has_text="Logged in")).to_be_visible()
        page.get_by_label("Outcome").select_option("failure")
        page.get_by_role("button", name="Filter").click()
        assert rows.count() == 1
        screenshot(page, "security-logins-desktop")

        phone = browser.new_context(locale="en-GB", **PHONE)
        phone.add_cookies(context.cookies())
        mobile = phone.new_page()
        mobile.goto(f"{base}/account/logins/")
        assert mobile.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        screenshot(mobile, "security-logins-phone")
        phone.close()
    finally:
        context.close()
        AccessAttempt.objects.filter(username__startswith=f"{business.schema}:").delete()


def test_lockout_page_and_cookie_page_on_a_phone(live_site, browser):
    business = live_site["provision"](unique_slug())
    base = f"http://{business.host}:{live_site['port']}"
    context = browser.new_context(locale="de-DE", **PHONE)
    page = context.new_page()
    try:
        for _ in range(settings.AXES_FAILURE_LIMIT):
            log_in(page, base, business.owner_username, "not-the-password-1")
        page.wait_for_load_state()
        assert page.locator("h1").count() == 1
        assert page.evaluate("document.documentElement.lang") == "de"
        expect(page.get_by_role("alert")).to_be_visible()
        screenshot(page, "security-locked-out-phone")

        page.goto(f"{base}/cookies/")
        assert page.locator("table.cookie-table tbody tr").count() == 4
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        screenshot(page, "security-cookies-phone")
        page.goto(f"{base}/login/")
        page.locator("footer").get_by_role("link", name="Cookies").click()
        page.wait_for_url(f"{base}/cookies/")
    finally:
        context.close()
        AccessAttempt.objects.filter(username__startswith=f"{business.schema}:").delete()
