"""Lockout after repeated failed logins: per login name and client IP, per business, with a cool-off."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from tests.conftest import PASSWORD, client_for
from tests.tenants.backoffice.helpers import make_user

pytestmark = pytest.mark.django_db

WRONG = "wrong-password-1"


def attempt(business, username, password, *, ip="203.0.113.7", language="en", **extra):
    client = client_for(business.host, language)
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=ip, **extra)


def fail(business, username, times, **kwargs):
    return [attempt(business, username, WRONG, **kwargs).status_code for _ in range(times)]


def test_wrong_passwords_below_the_limit_get_the_generic_message(business_a):
    codes = fail(business_a, business_a.owner_username, settings.AXES_FAILURE_LIMIT - 1)
    assert codes == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    response = attempt(business_a, business_a.owner_username, WRONG + "x")
    assert response.status_code == 429  # the limit-th failure locks


def test_locked_out_login_gets_a_clear_429_page_even_with_the_right_password(business_a):
    fail(business_a, business_a.owner_username, settings.AXES_FAILURE_LIMIT)
    response = attempt(business_a, business_a.owner_username, PASSWORD)
    assert response.status_code == 429
    page = response.content.decode()
    assert "Login paused" in page and "Please try again after" in page
    assert 0 < int(response["Retry-After"]) <= settings.AXES_COOLOFF_TIME.total_seconds()
    assert settings.SESSION_COOKIE_NAME not in response.cookies and "username" not in response.cookies
    german = attempt(business_a, business_a.owner_username, PASSWORD, language="de")
    assert german.status_code == 429 and '<html lang="de">' in german.content.decode()


def test_the_lock_is_per_address(business_a):
    fail(business_a, business_a.owner_username, settings.AXES_FAILURE_LIMIT)
    assert attempt(business_a, business_a.owner_username, PASSWORD).status_code == 429
    assert attempt(business_a, business_a.owner_username, PASSWORD, ip="198.51.100.1").status_code == 302


def test_the_lock_is_per_login_name(business_a):
    colleague = make_user(business_a, "manager")
    fail(business_a, business_a.owner_username, settings.AXES_FAILURE_LIMIT)
    assert attempt(business_a, colleague.username, PASSWORD).status_code == 302


def test_the_same_login_name_at_another_business_is_not_locked(business_a, business_b):
    same = "anna@shared.example"
    make_user(business_a, "manager", username=same)
    make_user(business_b, "manager", username=same)
    fail(business_a, same, settings.AXES_FAILURE_LIMIT)
    assert attempt(business_a, same, PASSWORD).status_code == 429
    assert attempt(business_b, same, PASSWORD).status_code == 302
    # The counters are one table in `public`, keyed by the schema-prefixed login name.
    assert set(AccessAttempt.objects.values_list("username", flat=True)) == {f"{business_a.schema}:{same}"}


def test_the_lock_ends_after_the_cool_off(business_a):
    fail(business_a, business_a.owner_username, settings.AXES_FAILURE_LIMIT)
    cool_off = settings.AXES_COOLOFF_TIME
    # Just inside the cool-off: still locked (tries while locked do not extend it).
    AccessAttempt.objects.update(attempt_time=timezone.now() - cool_off + timedelta(minutes=1))
    assert attempt(business_a, business_a.owner_username, PASSWORD).status_code == 429
    assert attempt(business_a, business_a.owner_username, PASSWORD).status_code == 429
    # Past it: the right password works again, without anyone lifting the lock.
    AccessAttempt.objects.update(attempt_time=timezone.now() - cool_off - timedelta(seconds=1))
    assert attempt(business_a, business_a.owner_username, PASSWORD).status_code == 302


def test_a_successful_login_resets_the_count(business_a):
    below = settings.AXES_FAILURE_LIMIT - 1
    fail(business_a, business_a.owner_username, below)
    assert attempt(business_a, business_a.owner_username, PASSWORD).status_code == 302
    assert fail(business_a, business_a.owner_username, below) == [200] * below


@override_settings(NUM_PROXIES=1)
def test_forged_forwarded_for_does_not_dodge_the_lock(business_a):
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt(
            business_a,
            business_a.owner_username,
            WRONG,
            ip="10.0.0.2",
            HTTP_X_FORWARDED_FOR=f"1.2.3.{n}, 198.51.100.4",
        )
    forged = attempt(
        business_a,
        business_a.owner_username,
        PASSWORD,
        ip="10.0.0.2",
        HTTP_X_FORWARDED_FOR="9.9.9.9, 198.51.100.4",
    )
    assert forged.status_code == 429
    other_client = attempt(
        business_a, business_a.owner_username, PASSWORD, ip="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.5"
    )
    assert other_client.status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.4"}


def test_api_token_login_counts_too(business_a):
    client = client_for(business_a.host, "en")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/api/v1/auth/token/", {"username": business_a.owner_username, "password": WRONG})
    refused = client.post(
        "/api/v1/auth/token/", {"username": business_a.owner_username, "password": PASSWORD}
    )
    assert refused.status_code == 429 and "token" not in refused.json()
    assert 0 < int(refused["Retry-After"]) <= settings.AXES_COOLOFF_TIME.total_seconds()


def test_counters_are_purged_once_their_cool_off_is_over(business_a):
    from termino.tenants.accounts.lockout import lockout_counters_purge

    fail(business_a, business_a.owner_username, 2)
    fail(business_a, business_a.owner_username, 2, ip="198.51.100.1")
    assert lockout_counters_purge() == 0
    AccessAttempt.objects.filter(ip_address="198.51.100.1").update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )
    assert lockout_counters_purge() == 1
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["203.0.113.7"]
