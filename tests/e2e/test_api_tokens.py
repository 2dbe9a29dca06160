"""In a real browser: a person makes an API token on their account page, copies it once, uses it, and
revokes it; the page works on a phone too."""

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD, client_for, unique_slug

from .conftest import DESKTOP, PHONE, screenshot

pytestmark = pytest.mark.browser


def api_status(business, key: str) -> int:
    return client_for(business.host).get("/api/v1/services/", HTTP_AUTHORIZATION=f"Token {key}").status_code


def test_make_use_and_revoke_a_token(live_site, browser):
    business = live_site["provision"](unique_slug())
    base = f"http://{business.host}:{live_site['port']}"
    # An older token, made by a script through the API: it is listed with its name too.
    scripted = client_for(business.host).post(
        "/api/v1/auth/token/",
        {"username": business.owner_username, "password": PASSWORD},
        HTTP_USER_AGENT="python-requests/2.34",
    )
    assert scripted.status_code == 200
    context = browser.new_context(locale="de-DE", **DESKTOP)
    page = context.new_page()
    try:
        page.goto(f"{base}/login/")
        page.locator("#id_username").fill(business.owner_username)
        page.locator("#id_password").fill(PASSWORD)
        page.locator("form button[type=submit]").last.click()
        page.wait_for_url(f"{base}/")

        page.goto(f"{base}/account/")
        page.get_by_role("link", name="API-Tokens").click()
        page.wait_for_url(f"{base}/account/tokens/")
        assert page.locator("tr[data-token]").count() == 1
        page.get_by_label("Name").fill("Website-Abgleich")
        page.get_by_role("button", name="Token erstellen").click()
        key = page.locator("#token-key").inner_text().strip()
        assert key.startswith("termino_")
        assert page.locator("tr[data-token]").count() == 2
        screenshot(page, "api-tokens-1-created")
        assert api_status(business, key) == 200

        # Shown once: the list no longer has it.
        page.goto(f"{base}/account/tokens/")
        assert page.locator("#token-key").count() == 0 and key not in page.content()
        row = page.locator("tr[data-token]", has_text="Website-Abgleich")
        row.get_by_role("button", name="Widerrufen").click()
        page.wait_for_url(f"{base}/account/tokens/")
        expect(page.get_by_text("Der API-Token „Website-Abgleich“ wurde widerrufen.")).to_be_visible()
        assert page.locator("tr[data-token]").count() == 1
        expect(page.locator("tr[data-token]", has_text="python-requests/2.34")).to_be_visible()
        screenshot(page, "api-tokens-2-revoked")
        assert api_status(business, key) == 401
        assert api_status(business, scripted.json()["token"]) == 200

        phone = browser.new_context(locale="de-DE", **PHONE)
        phone.add_cookies(context.cookies())
        mobile = phone.new_page()
        mobile.goto(f"{base}/account/tokens/")
        mobile.get_by_role("button", name="Token erstellen").click()
        mobile.locator("#token-key").wait_for()
        assert mobile.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        screenshot(mobile, "api-tokens-3-phone")
        phone.close()
    finally:
        context.close()
