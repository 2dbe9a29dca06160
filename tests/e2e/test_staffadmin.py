"""Platform staff in a real browser: first sign-in sets up TOTP, a later one asks for the code, a business
is found and suspended; the list on a phone."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from termino.platform.billing.models import BillingAccount
from termino.platform.staffadmin.models import StaffAction
from termino.platform.tenancy.models import Tenant
from tests.conftest import PASSWORD, password_hash, unique_slug

from .conftest import DESKTOP, PHONE, screenshot

pytestmark = pytest.mark.browser


def _code(device: TOTPDevice, step_offset: int = 0) -> str:
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + step_offset * device.step
    return f"{totp.token():06d}"


@pytest.fixture
def staff_user(live_site):
    user = get_user_model().objects.create(
        username=f"{unique_slug('ops')}@termino.example",
        first_name="Petra",
        last_name="Platt",
        is_staff=True,
        password=password_hash(),
    )
    yield user
    # The audit log refuses deletes by trigger: a test's own rows go under a superuser's replication role.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("DELETE FROM staffadmin_staffaction WHERE staff_id = %s", [user.pk])
    TOTPDevice.objects.filter(user=user).delete()
    # The user row stays (deactivated): deleting it would look for tenant-only tables from `public`.
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)


def _password_step(page, base, user):
    page.goto(f"{base}/staff/")
    page.wait_for_url(f"{base}/staff/login/?next=/staff/")
    page.get_by_label("Login name").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()


def test_staff_sets_up_totp_signs_in_and_suspends_a_business(live_site, staff_user, browser):
    business = live_site["provision"](unique_slug(), company_name="Salon Sonnenschein")
    base = f"http://localhost:{live_site['port']}"

    context = browser.new_context(locale="en-GB", **DESKTOP)
    page = context.new_page()
    try:
        # First sign-in: no device yet, so the set-up page with QR code and key.
        _password_step(page, base, staff_user)
        page.wait_for_url(f"{base}/staff/login/set-up/")
        expect(page.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
        expect(page.locator(".qr-image svg")).to_be_visible()
        screenshot(page, "staffadmin-1-enrol-desktop")
        device = TOTPDevice.objects.get(user=staff_user)
        page.get_by_label("Code from your authenticator app").fill(_code(device))
        page.get_by_role("button", name="Confirm and sign in").click()
        page.wait_for_url(f"{base}/staff/")
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(f"{base}/staff/login/")

        # Later sign-ins: password, then the code (a wrong one first).
        _password_step(page, base, staff_user)
        page.wait_for_url(f"{base}/staff/login/code/")
        wrong = f"{(int(_code(device, 1)) + 1) % 1_000_000:06d}"
        page.get_by_label("Code from your authenticator app").fill(wrong)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_text("This code is not right")).to_be_visible()
        page.wait_for_timeout(1100)  # django-otp's back-off after one wrong code
        page.get_by_label("Code from your authenticator app").fill(_code(device, 1))
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/staff/")

        page.get_by_role("searchbox").fill("Sonnenschein")
        page.get_by_role("button", name="Search").click()
        row = page.locator("table.businesses tbody tr", has_text="Salon Sonnenschein")
        expect(row.count() == 1 and row.get_by_text("Trial")).to_be_visible()
        screenshot(page, "staffadmin-2-list-desktop")
        row.get_by_role("link", name="Salon Sonnenschein").click()
        page.wait_for_url(f"{base}/staff/businesses/{business.tenant.pk}/")

        suspend = page.locator("#suspend_form")
        suspend.get_by_role("button", name="Suspend").click()  # without a reason: refused
        expect(page.get_by_text("Nothing was changed.")).to_be_visible()
        page.locator("#suspend_form").get_by_label("Reason").fill("Fraud report #4711")
        page.locator("#suspend_form").get_by_role("button", name="Suspend").click()
        page.wait_for_url(f"{base}/staff/businesses/{business.tenant.pk}/")
        expect(page.get_by_text("Salon Sonnenschein is suspended.")).to_be_visible()
        expect(page.locator(".page-head .badge-err", has_text="Suspended")).to_be_visible()
        expect(page.locator("table.audit", has_text="Fraud report #4711")).to_be_visible()
        screenshot(page, "staffadmin-3-suspended-desktop")
    finally:
        context.close()

    assert Tenant.objects.get(pk=business.tenant.pk).status == "suspended"
    assert BillingAccount.objects.get(tenant_id=business.tenant.pk).held_by_staff
    assert StaffAction.objects.filter(
        staff=staff_user, action="suspend", tenant_id=business.tenant.pk, reason="Fraud report #4711"
    ).exists()

    # The same pages on a phone, a sign-in some time later (a fresh time step for the code).
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1, drift=0)
    phone = browser.new_context(locale="en-GB", **PHONE)
    page = phone.new_page()
    try:
        page.goto(f"{base}/staff/login/")
        page.get_by_label("Login name").fill(staff_user.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url(f"{base}/staff/login/code/")
        screenshot(page, "staffadmin-4-code-phone")
        page.get_by_label("Code from your authenticator app").fill(_code(device))
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/staff/")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the list is {width}px wide on a 390px phone"
        screenshot(page, "staffadmin-5-list-phone")
        page.goto(f"{base}/staff/businesses/{business.tenant.pk}/")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the business page is {width}px wide on a 390px phone"
        screenshot(page, "staffadmin-6-business-phone")
    finally:
        phone.close()
