"""A business owner who forgot her password asks for a link on the login page, opens it from the e-mail on
her phone, chooses a new password and is in her backoffice; the link does not work a second time."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection, transaction
from django.db.models import Q
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from termino.celery import app as celery_app
from termino.tenants.accounts.models import LoginEvent
from tests.conftest import PASSWORD, password_hash, unique_slug

from .conftest import DESKTOP, PHONE, screenshot

pytestmark = pytest.mark.browser

NEW_PASSWORD = "Kirschbaum-Allee-2031"


@pytest.fixture
def eager_tasks():
    """The live server runs in this process: queued tasks run in its request threads (mails into the
    outbox). Switched on after the business is made, so signup's pool refill stays queued."""
    before = celery_app.conf.task_always_eager

    def switch_on():
        celery_app.conf.task_always_eager = True

    yield switch_on
    celery_app.conf.task_always_eager = before


def test_an_owner_resets_her_forgotten_password_by_e_mail(live_site, browser, settings, eager_tasks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    business = live_site["provision"](unique_slug())
    eager_tasks()
    base = f"http://{business.host}:{live_site['port']}"

    desk = browser.new_context(locale="en-GB", **DESKTOP)
    page = desk.new_page()
    try:
        page.goto(f"{base}/login/")
        page.get_by_label("E-mail").fill(business.owner_username)
        page.get_by_label("Password").fill("not-my-password-7")
        page.locator("form button[type=submit]").last.click()
        expect(page.get_by_role("link", name="Forgot your password?")).to_be_visible()
        screenshot(page, "reset-1-login")
        page.get_by_role("link", name="Forgot your password?").click()
        page.wait_for_url(f"{base}/password/forgot/")
        page.get_by_label("E-mail").fill(business.owner_username)
        screenshot(page, "reset-2-request")
        page.get_by_role("button", name="Send the link").click()
        page.wait_for_url(f"{base}/password/forgot/sent/")
        expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
        screenshot(page, "reset-3-sent")
    finally:
        desk.close()

    (message,) = mail.outbox
    assert message.to == [business.owner_username]
    link = re.search(r"https?://\S+/password/reset/[\w-]+/[\w-]+/", message.body).group(0)
    assert link.startswith(f"{base}/password/reset/")  # the business's own address

    phone = browser.new_context(locale="de-DE", **PHONE)
    page = phone.new_page()
    try:
        page.goto(link)
        page.wait_for_url(f"{base}/password/reset/*/set-password/")  # the token left the address bar
        expect(page.get_by_role("heading", name="Neues Passwort wählen")).to_be_visible()
        page.get_by_label("Neues Passwort", exact=True).fill("12345678901")
        page.get_by_label("Neues Passwort bestätigen").fill("12345678901")
        page.get_by_role("button", name="Neues Passwort setzen").click()
        expect(page.get_by_text("Das Passwort darf nicht nur aus Ziffern bestehen.")).to_be_visible()
        screenshot(page, "reset-4-choose-phone-de")
        page.get_by_label("Neues Passwort", exact=True).fill(NEW_PASSWORD)
        page.get_by_label("Neues Passwort bestätigen").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Neues Passwort setzen").click()
        page.wait_for_url(f"{base}/")
        expect(page.get_by_text("Ihr neues Passwort ist gesetzt. Sie sind angemeldet.")).to_be_visible()
        screenshot(page, "reset-5-backoffice-phone-de")

        response = page.goto(link)
        assert response.status == 404
        expect(page.get_by_role("heading", name="Dieser Link ist nicht (mehr) gültig")).to_be_visible()
        screenshot(page, "reset-6-used-link-phone-de")
    finally:
        phone.close()

    # The old password is gone, the new one works.
    again = browser.new_context(locale="en-GB", **DESKTOP)
    page = again.new_page()
    try:
        page.goto(f"{base}/login/")
        page.get_by_label("E-mail").fill(business.owner_username)
        page.get_by_label("Password").fill(PASSWORD)
        page.locator("form button[type=submit]").last.click()
        expect(page.get_by_text("Please enter a correct")).to_be_visible()
        page.get_by_label("Password").fill(NEW_PASSWORD)
        page.locator("form button[type=submit]").last.click()
        page.wait_for_url(f"{base}/")
    finally:
        again.close()


def test_the_lockout_page_offers_the_reset(live_site, browser, settings):
    business = live_site["provision"](unique_slug())
    base = f"http://{business.host}:{live_site['port']}"
    context = browser.new_context(locale="de-DE", **DESKTOP)
    page = context.new_page()
    try:
        page.goto(f"{base}/login/")
        for _ in range(settings.AXES_FAILURE_LIMIT):
            page.get_by_label("E-Mail").fill(business.owner_username)
            page.get_by_label("Passwort").fill("not-my-password-7")
            page.locator("form button[type=submit]").last.click()
            page.wait_for_load_state()
        expect(page.get_by_role("heading", name="Anmeldung pausiert")).to_be_visible()
        screenshot(page, "reset-lockout-de")
        page.get_by_role("link", name="Passwort vergessen?").click()
        page.wait_for_url(f"{base}/password/forgot/")
    finally:
        context.close()


@pytest.fixture
def staff_member(live_site):
    user = get_user_model().objects.create(
        username=f"{unique_slug('ops')}@termino.example",
        email=f"{unique_slug('ops')}@termino.example",
        first_name="Petra",
        last_name="Platt",
        is_staff=True,
        password=password_hash(),
    )
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    yield user, device
    # The audit log refuses deletes by trigger: a test's own rows go under a superuser's replication role.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("DELETE FROM staffadmin_staffaction WHERE staff_id = %s", [user.pk])
    LoginEvent.objects.filter(Q(user=user) | Q(username__in=[user.username, user.email])).delete()
    TOTPDevice.objects.filter(user=user).delete()
    # The user row stays (deactivated): deleting it would look for tenant-only tables from `public`.
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)


def test_platform_staff_reset_the_password_and_still_need_the_code(
    live_site, browser, settings, staff_member, eager_tasks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    eager_tasks()
    user, device = staff_member
    base = f"http://localhost:{live_site['port']}"
    context = browser.new_context(locale="en-GB", **DESKTOP)
    page = context.new_page()
    try:
        page.goto(f"{base}/staff/login/")
        page.get_by_role("link", name="Forgot your password?").click()
        page.wait_for_url(f"{base}/staff/login/forgot/")
        page.get_by_label("E-mail").fill(user.email)
        screenshot(page, "reset-staff-1-request")
        page.get_by_role("button", name="Send the link").click()
        page.wait_for_url(f"{base}/staff/login/forgot/sent/")
        screenshot(page, "reset-staff-2-sent")

        (message,) = mail.outbox
        link = re.search(r"https?://\S+/staff/login/reset/[\w-]+/[\w-]+/", message.body).group(0)
        assert link.startswith(f"{base}/staff/login/reset/")
        page.goto(link)
        page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
        page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
        screenshot(page, "reset-staff-3-choose")
        page.get_by_role("button", name="Set new password").click()
        page.wait_for_url(f"{base}/staff/login/")
        expect(page.get_by_text("Sign in with it and the code from your authenticator app.")).to_be_visible()
        screenshot(page, "reset-staff-4-sign-in")

        page.get_by_label("Login name").fill(user.username)
        page.get_by_label("Password").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url(f"{base}/staff/login/code/")  # the second factor, as always
        device.refresh_from_db()
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        page.get_by_label("Code from your authenticator app").fill(f"{totp.token():06d}")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/staff/")
    finally:
        context.close()
