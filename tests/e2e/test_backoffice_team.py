"""The owner invites a staff member by e-mail; the invitee opens the link on their phone, chooses a password,
lands logged in, and sees only their own calendar column."""

import json
import re

import pytest
from django.core import mail
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from termino.tenants.accounts.models import User
from termino.tenants.scheduling.models import Resource
from tests.conftest import PASSWORD, unique_slug
from tests.tenants.scheduling.factories import salon

from .conftest import DESKTOP, PHONE, screenshot

pytestmark = pytest.mark.browser

NEW_PASSWORD = "Sonnen-Uhr-Zeit-77"


def test_owner_invites_a_staff_member_who_then_sees_only_their_own_column(live_site, browser, settings):
    # The live server runs in this process: invitation mails land in django.core.mail.outbox.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    business = live_site["provision"](unique_slug())
    with schema_context(business.schema):
        salon(staff_count=2)  # two columns nobody works in yet (and a room)
    base = f"http://{business.host}:{live_site['port']}"

    owner_context = browser.new_context(locale="en-GB", **DESKTOP)
    page = owner_context.new_page()
    try:
        page.goto(f"{base}/login/")
        page.get_by_label("E-mail").fill(business.owner_username)
        page.get_by_label("Password").fill(PASSWORD)
        page.locator("form button[type=submit]").last.click()
        page.wait_for_url(f"{base}/")

        page.get_by_role("navigation", name="Sections").get_by_role("link", name="People").click()
        page.wait_for_url(f"{base}/people/")
        page.get_by_role("link", name="Add a person").click()
        page.get_by_label("Name", exact=True).fill("Lena")
        page.get_by_label("E-mail (optional)").fill("Lena.Fischer@Example.com")
        assert page.get_by_label("Staff", exact=True).is_checked()
        assert page.get_by_label("Appears in the calendar").is_checked()
        page.get_by_label("Haarschnitt").check()
        screenshot(page, "team-1-invite")
        page.get_by_role("button", name="Add", exact=True).click()
        page.wait_for_url(f"{base}/people/")
        expect(page.get_by_text("the invitation has been sent to lena.fischer@example.com.")).to_be_visible()
        invitation_row = page.locator("tr", has_text="lena.fischer@example.com")
        assert "Lena" in invitation_row.inner_text() and "Invited" in invitation_row.inner_text()
        screenshot(page, "team-2-list-with-invitation")
        page.get_by_role("link", name="Account", exact=True).click()
        page.wait_for_url(f"{base}/account/")
        screenshot(page, "team-account-desktop")
    finally:
        owner_context.close()

    (message,) = mail.outbox
    assert message.to == ["lena.fischer@example.com"]
    link = re.search(r"https?://\S+/team/accept/[\w-]+/", message.body).group(0)
    assert link.startswith(f"{base}/team/accept/")  # the business's own address

    invitee = browser.new_context(locale="en-GB", **PHONE)
    page = invitee.new_page()
    try:
        page.goto(link)
        assert page.get_by_label("Your login name").input_value() == "lena.fischer@example.com"
        assert page.get_by_label("Your name").input_value() == "Lena"
        page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
        page.get_by_label("Password confirmation").fill(NEW_PASSWORD)
        screenshot(page, "team-3-accept-phone")
        page.get_by_role("button", name="Set password and start").click()
        page.wait_for_url(re.compile(rf"{re.escape(base)}/(calendar/)?(\?.*)?$"))

        with schema_context(business.schema):
            user = User.objects.get(username="lena.fischer@example.com")
            own_column = Resource.objects.get(user=user)
            all_columns = set(Resource.objects.values_list("pk", flat=True))
        assert own_column.name == "Lena" and len(all_columns) == 4

        page.goto(f"{base}/calendar/")
        page.locator(".ec-event, .ec-body").first.wait_for()
        config = json.loads(page.locator("#cal-config").text_content())
        assert [r["id"] for r in config["resources"]] == [own_column.pk]  # only her own column
        screenshot(page, "team-4-staff-calendar-phone")

        response = page.goto(f"{base}/settings/")
        assert response.status == 403
        response = page.goto(f"{base}/people/")
        assert response.status == 403
        response = page.goto(link)
        assert response.status == 410
    finally:
        invitee.close()


def log_in(page, base, username):
    page.goto(f"{base}/login/")
    page.get_by_label("E-mail").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(f"{base}/")


def test_owner_deactivates_a_member_and_edits_the_account_on_a_phone(live_site, browser):
    business = live_site["provision"](unique_slug())
    with schema_context(business.schema):
        staff = User.objects.create_user(
            username="jonas@example.com",
            email="jonas@example.com",
            password=PASSWORD,
            first_name="Jonas",
            last_name="Weber",
            role="staff",
        )
        Resource.objects.create(kind="staff", name="Jonas", user=staff)
    base = f"http://{business.host}:{live_site['port']}"
    staff_context = browser.new_context(locale="en-GB", **DESKTOP)
    owner_context = browser.new_context(locale="en-GB", **PHONE)
    try:
        staff_page = staff_context.new_page()
        log_in(staff_page, base, "jonas@example.com")

        page = owner_context.new_page()
        log_in(page, base, business.owner_username)
        page.goto(f"{base}/people/")
        screenshot(page, "team-5-list-phone")
        page.locator(f'tr[data-member="{staff.pk}"]').get_by_role("link", name="Edit").click()
        page.get_by_label("May log in").uncheck()
        screenshot(page, "team-6-edit-phone")
        page.get_by_role("button", name="Save changes").click()
        page.wait_for_url(f"{base}/people/")
        # No login any more; still bookable in the calendar until "Appears in the calendar" is unticked.
        assert "May not log in" in page.locator(f'tr[data-member="{staff.pk}"]').inner_text()

        # Jonas's open session has ended.
        staff_page.goto(f"{base}/calendar/")
        assert "/login/" in staff_page.url

        page.goto(f"{base}/account/")
        page.get_by_label("Phone").fill("089 1234567")
        page.get_by_label("Postcode").fill("8033")
        page.get_by_role("button", name="Save changes").click()
        expect(page.get_by_text("A postcode in this country has 5 digits.")).to_be_visible()
        page.get_by_label("Postcode").fill("80331")
        page.get_by_role("button", name="Save changes").click()
        page.wait_for_url(f"{base}/account/")
        expect(page.get_by_text("Your details have been saved.")).to_be_visible()
        assert page.get_by_label("Phone").input_value() == "+49891234567"
        screenshot(page, "team-7-account-phone")
    finally:
        owner_context.close()
        staff_context.close()
