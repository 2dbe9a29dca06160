"""In a real browser: the owner adds a webhook endpoint (the secret shown once), sees a booking's delivery in
the log with its attempt, and resends it; the page works on a phone too."""

import json

import pytest
from django.db import transaction
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from termino.tenants.webhooks.delivery import deliveries_send_due
from termino.tenants.webhooks.models import Endpoint
from tests.conftest import PASSWORD, unique_slug
from tests.fakes.webhook_receiver import Receiver
from tests.tenants.webhooks.helpers import booking

from .conftest import DESKTOP, PHONE, screenshot

pytestmark = pytest.mark.browser


def test_add_an_endpoint_see_a_delivery_and_resend_it(live_site, browser):
    business = live_site["provision"](unique_slug())
    base = f"http://{business.host}:{live_site['port']}"
    with Receiver() as receiver:
        context = browser.new_context(locale="de-DE", **DESKTOP)
        page = context.new_page()
        try:
            page.goto(f"{base}/login/")
            page.locator("#id_username").fill(business.owner_username)
            page.locator("#id_password").fill(PASSWORD)
            page.locator("form button[type=submit]").last.click()
            page.wait_for_url(f"{base}/")

            page.goto(f"{base}/settings/profile/")
            page.get_by_role("link", name="Webhooks").click()
            page.wait_for_url(f"{base}/settings/webhooks/")
            # Nothing chosen: the form comes back with a message, nothing stored.
            page.get_by_label("URL").fill(receiver.url)
            page.get_by_role("button", name="Endpunkt hinzufügen").click()
            expect(page.get_by_text("Bitte wählen Sie mindestens ein Ereignis.")).to_be_visible()
            page.get_by_label("Beschreibung").fill("Unser CRM")
            page.get_by_label("Termin gebucht").check()
            page.get_by_label("Termin abgesagt").check()
            page.get_by_role("button", name="Endpunkt hinzufügen").click()
            page.wait_for_url(f"{base}/settings/webhooks/*/")
            secret = page.locator("#webhook-secret").inner_text().strip()
            with schema_context(business.schema):
                endpoint = Endpoint.objects.get()
            assert secret == endpoint.secret and secret.startswith("whsec_")
            screenshot(page, "webhooks-1-added")

            # A booking happens; a worker delivers it.
            with schema_context(business.schema):
                with transaction.atomic():
                    appointment, _customer = booking()
                deliveries_send_due()
            assert json.loads(receiver.wait_for(1)[0].body)["data"]["appointment"]["id"] == appointment.pk

            page.reload()
            assert page.locator("#webhook-secret").count() == 0  # shown once
            row = page.locator(".deliveries-table tbody tr").first
            expect(row.get_by_text("appointment.created")).to_be_visible()
            expect(row.get_by_text("Zugestellt")).to_be_visible()
            row.locator("summary").click()
            expect(row.get_by_text("HTTP 200").first).to_be_visible()
            screenshot(page, "webhooks-2-log")
            row.get_by_role("button", name="Erneut senden").click()
            expect(page.get_by_text("Erneut eingereiht")).to_be_visible()
            with schema_context(business.schema):
                deliveries_send_due()
            requests = receiver.wait_for(2)
            assert requests[1].headers["Termino-Delivery"] == requests[0].headers["Termino-Delivery"]
        finally:
            context.close()

        phone = browser.new_context(locale="de-DE", **PHONE)
        try:
            page = phone.new_page()
            page.goto(f"{base}/login/")
            page.locator("#id_username").fill(business.owner_username)
            page.locator("#id_password").fill(PASSWORD)
            page.locator("form button[type=submit]").last.click()
            page.wait_for_url(f"{base}/")
            page.goto(f"{base}/settings/webhooks/{endpoint.pk}/")
            expect(page.get_by_text("appointment.created").first).to_be_visible()
            screenshot(page, "webhooks-3-phone")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390 + 1, f"the page scrolls sideways on a phone ({width}px)"
        finally:
            phone.close()
