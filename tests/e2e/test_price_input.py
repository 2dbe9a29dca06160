"""A price typed in an English browser at a German business: "39,50" is 39.50, shown "39,50 €"; a free
service reads "kostenlos" on the booking page. Desktop and phone."""

import re
from decimal import Decimal

import pytest
from django_tenants.utils import schema_context

from termino.tenants.scheduling.models import Service
from tests.conftest import unique_slug
from tests.tenants.scheduling.factories import salon

from .conftest import DESKTOP, PHONE, screenshot

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("device", "name"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_price_input_follows_the_business_not_the_browser(live_site, browser, device, name):
    business = live_site["provision"](unique_slug(), language="de")
    with schema_context(business.schema):
        salon(name="Beratung")  # price 0
    base = f"http://{business.host}:{live_site['port']}"
    context = browser.new_context(locale="en-US", **device)
    page = context.new_page()
    try:
        page.goto(f"{base}/login/")
        page.fill("#id_username", business.owner_username)
        page.fill("#id_password", business.password)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{base}/")

        page.goto(f"{base}/settings/services/new/")
        page.fill("#id_name", "Färben")
        page.fill("#id_duration_minutes", "60")
        page.fill("#id_price", "39,50")
        screenshot(page, f"price-input-typed-{name}")
        page.get_by_role("button", name="Save").first.click()
        page.wait_for_url(f"{base}/settings/services/")
        with schema_context(business.schema):
            service = Service.objects.get(name="Färben")
        assert service.price == Decimal("39.50")
        row = page.get_by_role("row").filter(has_text="Färben")
        assert "39,50\xa0€" in row.inner_text()
        assert "free" in page.get_by_role("row").filter(has_text="Beratung").inner_text()
        screenshot(page, f"price-list-{name}")

        page.goto(f"{base}/settings/services/{service.pk}/")
        assert page.locator("#id_price").input_value() == "39,50"
        assert page.locator("output.price-preview").inner_text() == "Customers see: 39,50\xa0€"
        screenshot(page, f"price-input-saved-{name}")
    finally:
        context.close()

    # A German customer sees the free service as "kostenlos", the other one with its price.
    german = browser.new_context(locale="de-DE", **device)
    booking = german.new_page()
    try:
        booking.goto(f"{base}/book/")
        card = booking.locator(".bk-service").filter(has_text="Beratung")
        card.wait_for()
        assert card.locator(".bk-price").inner_text() == "kostenlos"
        assert booking.locator(".bk-service").filter(has_text="Färben").locator(".bk-price").inner_text() == (
            "39,50\xa0€"
        )
        card.click()
        # The booking summary (folded away on a phone) says it too.
        # (A locator, not wait_for_function: the booking page's CSP forbids evaluating strings.)
        summary = booking.locator("[data-sum=price] dd")
        summary.filter(has_text=re.compile(r"^kostenlos$")).wait_for(state="attached")
        assert summary.text_content() == "kostenlos"
        screenshot(booking, f"price-booking-free-{name}")
    finally:
        german.close()
