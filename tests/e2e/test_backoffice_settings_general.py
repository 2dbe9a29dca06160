"""The settings pages in a real browser: the message text editor's live preview and placeholders, the copy
buttons, and every page on a phone without sideways scrolling."""

from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from termino.platform.tenancy.models import Tenant
from termino.tenants.notifications.models import MessageTemplate, OutboxMessage
from tests.conftest import unique_slug
from tests.tenants.booking.public_helpers import booking_body, public_post
from tests.tenants.scheduling.factories import next_monday, salon

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


def test_message_text_editor(live_site, browser):
    business, base, context, page = open_backoffice(live_site, browser, DESKTOP)
    try:
        page.goto(f"{base}/settings/messages/")
        screenshot(page, "settings-messages-desktop")
        with page.expect_navigation():  # until the editor's script is loaded: the chips work only then
            page.get_by_role("link", name="Edit Reminder (SMS)").click()
        body = page.get_by_label("Text")
        assert body.input_value().startswith("Erinnerung von {business}")
        body.fill("Hallo ")
        page.get_by_role("button", name="{first_name}").click()  # inserted at the cursor
        body.press("End")
        body.type(", bis {date} um {time}")
        preview = page.locator("[data-preview-body]")
        preview.filter(has_text="Hallo Lena, bis Montag").wait_for()
        page.locator("[data-preview-errors]").get_by_text("also give {time_zone}").wait_for()
        body.type(" ({time_zone}) 🙂")
        page.locator("[data-preview-unicode]").wait_for(state="visible")  # the emoji needs Unicode
        assert page.locator("[data-preview-count]").inner_text().startswith("SMS parts: 1 (")
        assert page.locator("[data-preview-errors] li").count() == 0
        screenshot(page, "settings-message-template-desktop")
        page.get_by_role("button", name="Save").click()
        page.get_by_text("Your text is saved.").wait_for()
        with schema_context(business.schema):
            assert (
                MessageTemplate.objects.get().body
                == "Hallo {first_name}, bis {date} um {time} ({time_zone}) 🙂"
            )
    finally:
        context.close()


def test_copy_the_embed_snippet(live_site, browser):
    _business, base, context, page = open_backoffice(live_site, browser, DESKTOP)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    try:
        page.goto(f"{base}/settings/booking/")
        page.locator('[data-copy="snippet-inline"]').click()
        page.locator('[data-copy="snippet-inline"]').filter(has_text="Copied").wait_for()
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied == f'<script src="{base}/embed.js" data-mode="inline"></script>'
        screenshot(page, "settings-booking-desktop")
    finally:
        context.close()


def test_pages_fit_a_phone(live_site, browser):
    business, base, context, page = open_backoffice(live_site, browser, PHONE)
    with schema_context(business.schema):
        service, _staff, _room = salon()
    public_post(business.host, "bookings/", booking_body(service, next_monday()))
    with schema_context(business.schema):
        OutboxMessage.objects.filter(kind="confirmation", channel="sms").update(
            status="failed", reason="SMS rejected (delivery code 16)", attempts=1
        )
    try:
        for name in (
            "",
            "profile/",
            "legal/",
            "booking/",
            "messages/",
            "messages/confirmation/email/",
            "outbox/",
        ):
            page.goto(f"{base}/settings/{name}")
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, (name, overflow)
            screenshot(page, "settings-phone-" + (name.strip("/").replace("/", "-") or "index"))
        page.get_by_text("SMS rejected (delivery code 16)").wait_for()
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Resend").first.click()
        page.get_by_text("Queued again for").wait_for()
    finally:
        context.close()


def test_time_zone_filter_on_a_phone(live_site, browser):
    """Every IANA zone is in the list; typing in the box in front of it narrows the list, Enter picks one."""
    business, base, context, page = open_backoffice(live_site, browser, PHONE)
    try:
        page.goto(f"{base}/settings/profile/")
        select = page.locator("select[name=time_zone]")
        every = select.locator("option").count()
        assert every > 400
        box = page.get_by_label("Find a time zone")
        box.fill("kolk")
        page.get_by_text("1 time zone matches.").wait_for()
        # Kolkata, and the zone chosen so far (it never drops out of the list, so nothing changes unseen).
        berlin = timezone.now().astimezone(ZoneInfo("Europe/Berlin")).strftime("%z")  # the pinned clock's
        assert select.locator("option").all_inner_texts() == [
            f"Europe/Berlin (UTC{berlin[:3]}:{berlin[3:]})",
            "Asia/Kolkata (UTC+05:30)",
        ]
        assert select.input_value() == "Europe/Berlin"
        box.press("Enter")  # picks the first match instead of sending the form
        assert select.input_value() == "Asia/Kolkata"
        box.fill("+05:30")
        assert {"Asia/Kolkata", "Asia/Colombo"} <= set(
            select.locator("option").evaluate_all("o => o.map(x => x.value)")
        )
        box.fill("são paulo")
        page.get_by_text("1 time zone matches.").wait_for()
        box.fill("zzz")
        page.get_by_text("No time zone matches.").wait_for()
        box.fill("")
        assert select.locator("option").count() == every
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
        box.fill("adelaide")
        select.select_option("Australia/Adelaide")
        screenshot(page, "settings-profile-time-zone-phone")
        with page.expect_navigation():
            page.get_by_role("button", name="Save").click()
        assert Tenant.objects.get(pk=business.tenant.pk).time_zone == "Australia/Adelaide"
        assert page.locator("select[name=time_zone]").input_value() == "Australia/Adelaide"
    finally:
        context.close()


def test_time_zone_list_works_without_javascript(live_site, browser):
    business, base, _context, _page = open_backoffice(live_site, browser, DESKTOP)
    _context.close()
    context = browser.new_context(locale="en-GB", java_script_enabled=False, **PHONE)
    page = context.new_page()
    try:
        page.goto(f"{base}/login/")
        page.fill("#id_username", business.owner_username)
        page.fill("#id_password", business.password)
        page.click("main button[type=submit]")
        page.goto(f"{base}/settings/profile/")
        assert page.get_by_label("Find a time zone").count() == 0  # the box is the script's
        page.locator("select[name=time_zone]").select_option("America/Sao_Paulo")
        with page.expect_navigation():
            page.get_by_role("button", name="Save").click()
        assert Tenant.objects.get(pk=business.tenant.pk).time_zone == "America/Sao_Paulo"
    finally:
        context.close()
