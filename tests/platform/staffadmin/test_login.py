"""Staff sign in with password *and* a TOTP code; nobody else gets into /staff/ (or Django's /admin/)."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from termino.platform.staffadmin import security
from termino.platform.staffadmin.models import StaffAction
from tests.conftest import PASSWORD, client_for

from .conftest import code, device_of, make_staff, sign_in, staff_client

pytestmark = pytest.mark.django_db


def password_step(client, username, password=PASSWORD):
    return client.post("/staff/login/", {"username": username, "password": password})


def test_anonymous_is_sent_to_the_login(business_a):
    for path in ("/staff/", f"/staff/businesses/{business_a.tenant.pk}/", "/staff/audit/"):
        response = staff_client().get(path)
        assert response.status_code == 302 and response["Location"].startswith("/staff/login/?next=")


def test_login_page_renders_in_both_languages():
    assert "Staff sign-in" in staff_client("en").get("/staff/login/").content.decode()
    german = staff_client("de").get("/staff/login/").content.decode()
    assert '<html lang="de">' in german


def test_password_and_code_sign_in(staff):
    client = staff_client()
    response = password_step(client, staff.username)
    assert response.status_code == 302 and response["Location"] == "/staff/login/code/"
    # The password alone opens nothing.
    assert client.get("/staff/").status_code == 302
    page = client.get("/staff/login/code/")
    assert page.status_code == 200 and "Two-factor code" in page.content.decode()

    response = client.post("/staff/login/code/", {"code": code(device_of(staff))})
    assert response.status_code == 302 and response["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200
    entry = StaffAction.objects.get(staff=staff, action="login")
    assert entry.ip == "127.0.0.1" and entry.tenant_id is None


def test_a_wrong_code_is_refused_and_counted(staff):
    client = staff_client()
    password_step(client, staff.username)
    right = code(device_of(staff))
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    response = client.post("/staff/login/code/", {"code": wrong})
    assert response.status_code == 400
    assert "This code is not right" in response.content.decode()
    assert client.get("/staff/").status_code == 302
    assert device_of(staff).throttling_failure_count == 1
    assert StaffAction.objects.filter(staff=staff, action="otp_failed").count() == 1
    # django-otp makes the next try wait (1, 2, 4 … seconds): even the right code is not tried yet.
    response = client.post("/staff/login/code/", {"code": right})
    assert response.status_code == 429 and "Please wait" in response.content.decode()
    assert client.get("/staff/").status_code == 302


def test_a_malformed_code_is_a_form_error(staff):
    client = staff_client()
    password_step(client, staff.username)
    response = client.post("/staff/login/code/", {"code": "12ab"})
    assert response.status_code == 400 and "Enter the 6 digits" in response.content.decode()


def test_too_many_wrong_codes_lock_the_login(staff, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # only our own counter, not the device's back-off
    client = staff_client()
    password_step(client, staff.username)
    right = code(device_of(staff))
    wrong = f"{(int(right) + 7) % 1_000_000:06d}"
    for _ in range(settings.STAFFADMIN_MAX_FAILURES - 1):
        assert client.post("/staff/login/code/", {"code": wrong}).status_code == 400
    response = client.post("/staff/login/code/", {"code": wrong})
    assert response.status_code == 429 and "Too many failed attempts" in response.content.decode()
    # The half-done login is gone, and the right password with the right code is refused for a while.
    assert client.get("/staff/login/code/")["Location"] == "/staff/login/"
    response = password_step(client, staff.username)
    assert response.status_code == 429
    assert (
        StaffAction.objects.filter(staff=staff, action="otp_failed").count()
        == settings.STAFFADMIN_MAX_FAILURES
    )


def test_wrong_passwords_are_rate_limited(staff):
    client = staff_client()
    for _ in range(settings.STAFFADMIN_MAX_FAILURES - 1):
        assert password_step(client, staff.username, "wrong-password-1").status_code == 400
    # The last allowed failure locks the login (our counter, and the project's lockout if installed) …
    assert password_step(client, staff.username, "wrong-password-1").status_code in (400, 429)
    # … so that even the right password is refused for a while.
    response = password_step(client, staff.username)
    assert response.status_code == 429
    assert security.PENDING_USER not in client.session


def test_our_own_counter_locks_without_any_other_lockout(staff):
    for _ in range(settings.STAFFADMIN_MAX_FAILURES):
        security.failure_record(staff.username, "127.0.0.1")
    response = password_step(staff_client(), staff.username)
    assert response.status_code == 429 and "Too many failed attempts" in response.content.decode()


def test_the_code_step_needs_the_password_first(staff):
    client = staff_client()
    assert client.get("/staff/login/code/")["Location"] == "/staff/login/"
    response = client.post("/staff/login/code/", {"code": code(device_of(staff))})
    assert response.status_code == 302 and response["Location"] == "/staff/login/"
    assert client.get("/staff/").status_code == 302


def test_the_password_step_expires(staff):
    client = staff_client()
    password_step(client, staff.username)
    session = client.session
    session[security.PENDING_AT] = int(time.time()) - settings.STAFFADMIN_PENDING_SECONDS - 1
    session.save()
    response = client.post("/staff/login/code/", {"code": code(device_of(staff))})
    assert response["Location"] == "/staff/login/"
    assert client.get("/staff/").status_code == 302


def test_non_staff_users_of_public_are_refused():
    user = make_staff(is_staff=False)
    client = staff_client()
    response = password_step(client, user.username)
    assert response.status_code == 400
    assert "not a platform staff account" in response.content.decode()
    assert security.PENDING_USER not in client.session


def test_inactive_staff_are_refused():
    user = make_staff()
    user.is_active = False
    user.save()
    assert password_step(staff_client(), user.username).status_code == 400


def test_a_business_owners_credentials_do_nothing_here(business_a):
    client = staff_client()
    response = password_step(client, business_a.owner_username)
    assert response.status_code == 400
    assert security.PENDING_USER not in client.session
    assert client.get("/staff/").status_code == 302


def test_staff_pages_do_not_exist_at_a_business_host(business_a, staffed):
    _staff, _client = staffed
    assert client_for(business_a.host).get("/staff/").status_code == 404
    assert client_for(business_a.host).get("/staff/login/").status_code == 404


def test_first_login_enrols_a_device():
    user = make_staff(device=False)
    client = staff_client()
    response = password_step(client, user.username)
    assert response.status_code == 302 and response["Location"] == "/staff/login/set-up/"
    assert client.get("/staff/login/code/")["Location"] == "/staff/login/set-up/"

    page = client.get("/staff/login/set-up/")
    html = page.content.decode()
    assert page.status_code == 200 and "<svg" in html and "Set up two-factor sign-in" in html
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed is False
    secret = page.context["secret_groups"].replace(" ", "")
    assert secret and secret in html.replace(" ", "")
    # Reloading shows the same secret: one device is being set up, not a new one each time.
    assert client.get("/staff/login/set-up/").context["secret_groups"] == page.context["secret_groups"]
    assert TOTPDevice.objects.filter(user=user).count() == 1

    right = code(device)
    wrong = f"{(int(right) + 3) % 1_000_000:06d}"
    assert client.post("/staff/login/set-up/", {"code": wrong}).status_code == 400
    device.refresh_from_db()
    assert device.confirmed is False
    device.throttling_failure_count = 0  # skip django-otp's one-second back-off
    device.save()

    response = client.post("/staff/login/set-up/", {"code": right})
    assert response.status_code == 302 and response["Location"] == "/staff/"
    device.refresh_from_db()
    assert device.confirmed is True
    assert client.get("/staff/").status_code == 200
    assert StaffAction.objects.filter(staff=user, action="otp_enrolled").exists()
    assert StaffAction.objects.filter(staff=user, action="login").exists()


def test_enrolment_is_only_for_staff_without_a_device(staff):
    client = staff_client()
    password_step(client, staff.username)
    response = client.get("/staff/login/set-up/")
    assert response.status_code == 302 and response["Location"] == "/staff/login/code/"
    assert client.post("/staff/login/set-up/", {"code": "123456"})["Location"] == "/staff/login/code/"
    assert TOTPDevice.objects.filter(user=staff).count() == 1


def test_staff_sessions_end_after_their_time(staffed):
    _staff, client = staffed
    session = client.session
    session[security.LOGIN_AT] = int(time.time()) - settings.STAFFADMIN_SESSION_SECONDS - 1
    session.save()
    response = client.get("/staff/")
    assert response.status_code == 302 and response["Location"].startswith("/staff/login/")
    assert "_auth_user_id" not in client.session


def test_the_staff_session_ends_with_the_browser(staff):
    client = sign_in(staff)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert not cookie["max-age"] and not cookie["expires"]


def test_sign_out(staffed):
    _staff, client = staffed
    response = client.post("/staff/logout/")
    assert response.status_code == 302 and response["Location"] == "/staff/login/"
    assert client.get("/staff/").status_code == 302
    assert client.get("/staff/logout/").status_code == 405


def test_next_is_followed_only_within_the_site(staff, business_a):
    client = staff_client()
    target = f"/staff/businesses/{business_a.tenant.pk}/"
    client.post("/staff/login/", {"username": staff.username, "password": PASSWORD, "next": target})
    response = client.post("/staff/login/code/", {"code": code(device_of(staff))})
    assert response["Location"] == target

    other = make_staff()
    client = staff_client()
    client.post(
        "/staff/login/", {"username": other.username, "password": PASSWORD, "next": "https://evil.example/"}
    )
    response = client.post("/staff/login/code/", {"code": code(device_of(other))})
    assert response["Location"] == "/staff/"


def test_django_admin_needs_the_second_factor_too():
    user = make_staff(superuser=True)
    password_only = staff_client()
    password_only.force_login(user)  # a session without the TOTP step
    response = password_only.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    response = password_only.get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/staff/login/?next=/admin/")

    client = sign_in(user)
    assert client.get("/admin/").status_code == 200


def test_fifty_concurrent_failures_count_exactly_to_the_limit(staff, settings):
    """The failure counter is one atomic Redis step: concurrent wrong attempts cannot slip past it."""
    settings.STAFFADMIN_MAX_FAILURES = 5
    with ThreadPoolExecutor(max_workers=50) as pool:
        list(pool.map(lambda n: security.failure_record(staff.username, f"198.51.100.{n}"), range(50)))
    assert security.login_blocked(staff.username, "203.0.113.1")
    user_limit, _ip_limit = security._limits()
    assert security.ratelimit.count(user_limit, security._keys(staff.username, None)[0]) == 5
    security.failures_clear(staff.username)
    assert not security.login_blocked(staff.username, "203.0.113.1")
