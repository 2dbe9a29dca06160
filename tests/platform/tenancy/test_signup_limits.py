"""Signups are limited per client IP (termino.shared.ratelimit), and a public signup is never confirmed."""

import re
import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.utils import timezone

from termino.platform.tenancy import services
from termino.platform.tenancy.models import Tenant
from termino.platform.tenancy.signup import business_sign_up, client_key, signup_slot_take
from termino.shared.ratelimit import RateLimited
from termino.shared.timeutils import shift
from tests.conftest import client_for, make_signup, unique_slug

from .test_signup import form_data

CLIENT = "203.0.113.7"


def post_signup(data: dict, *, ip: str = CLIENT, lang: str = "en"):
    return client_for("localhost").post("/signup/", data, REMOTE_ADDR=ip, HTTP_ACCEPT_LANGUAGE=lang)


def test_fifty_concurrent_signups_from_one_ip_create_exactly_the_hourly_limit(committed_db, settings):
    settings.SIGNUPS_PER_IP_PER_HOUR, settings.SIGNUPS_PER_IP_PER_DAY = 3, 10
    services.schema_pool_fill(size=3)  # the three winners claim ready schemas instead of migrating
    contenders = 50
    forms = [form_data(slug=unique_slug(), email=f"owner{n}@flood.example") for n in range(contenders)]
    barrier = threading.Barrier(contenders)
    codes: list[int] = []
    pages: list[str] = []

    def attempt(data: dict) -> None:
        try:
            barrier.wait()
            response = post_signup(data)
            codes.append(response.status_code)
            if response.status_code == 429:
                pages.append(response.content.decode())
                assert int(response["Retry-After"]) > 0
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(data,)) for data in forms]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert sorted(codes) == [302] * 3 + [429] * 47
    created = Tenant.objects.filter(slug__in=[f["slug"] for f in forms])
    assert created.count() == 3
    assert all(t.email_confirmed_at is None for t in created)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(t.email for t in created)
    assert all("try again in" in page for page in pages)
    # Another client is not affected.
    other = form_data(slug=unique_slug())
    assert post_signup(other, ip="198.51.100.20").status_code == 302


def test_the_daily_limit_holds_across_hours(settings):
    settings.SIGNUPS_PER_IP_PER_HOUR, settings.SIGNUPS_PER_IP_PER_DAY = 3, 10
    start = timezone.now()
    taken = 0
    for hour in range(5):
        with time_machine.travel(shift(start, hours=hour, minutes=1), tick=False):
            for _ in range(3):
                try:
                    signup_slot_take(ip=CLIENT)
                    taken += 1
                except RateLimited as exc:
                    refused = exc
    assert taken == 10
    assert refused.limit.name == "signup-ip-day"
    # The day's oldest signup leaves the window 24 hours after it was made.
    assert timedelta(hours=19) < timedelta(seconds=refused.retry_after) <= timedelta(hours=20)
    with time_machine.travel(shift(start, hours=24, minutes=2), tick=False):
        signup_slot_take(ip=CLIENT)


@pytest.mark.django_db
def test_a_refused_signup_says_when_to_try_again_and_creates_nothing(settings):
    settings.SIGNUPS_PER_IP_PER_HOUR = 1
    assert post_signup(form_data()).status_code == 302
    before = Tenant.objects.count()
    refused = post_signup(form_data())
    assert refused.status_code == 429
    assert 3500 < int(refused["Retry-After"]) <= 3600
    page = refused.content.decode()
    assert "Enough new businesses for now" in page
    assert re.search(r"please try again in (59\xa0minutes|1\xa0hour)\.", page), page
    german = post_signup(form_data(), lang="de")
    assert german.status_code == 429
    assert re.search(r"versuchen Sie es bitte in (59\xa0Minuten|1\xa0Stunde) erneut", german.content.decode())
    assert Tenant.objects.count() == before


@pytest.mark.django_db
def test_forms_with_mistakes_and_taken_addresses_do_not_count(settings, business_a):
    settings.SIGNUPS_PER_IP_PER_HOUR = 1
    assert post_signup(form_data(phone="12")).status_code == 200
    assert post_signup(form_data(slug=business_a.tenant.slug)).status_code == 200
    # An address taken between the form's check and the claim: that attempt hands its count back.
    with pytest.raises(services.SubdomainTaken):
        business_sign_up(signup=make_signup(business_a.tenant.slug), ip=CLIENT)
    assert post_signup(form_data()).status_code == 302


def test_ipv6_clients_count_per_network_and_addressless_requests_share_one_key():
    assert client_key("2001:db8:1:2::1") == client_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("203.0.113.7") == "203.0.113.7" != client_key("203.0.113.8")
    assert client_key(None) == client_key("") == client_key("not an ip") == "unknown"


@pytest.mark.django_db
def test_the_public_signup_is_unconfirmed_whatever_the_caller_passes():
    tenant = business_sign_up(signup=make_signup(unique_slug(), email_confirmed=True), ip=CLIENT)
    assert tenant.email_confirmed_at is None and not tenant.email_confirmed
    assert [m.to for m in mail.outbox] == [[tenant.email]]
    # Trusted callers (the demo seed, the test fixtures) provision confirmed businesses.
    trusted = services.tenant_provision(signup=make_signup(unique_slug()))
    assert trusted.email_confirmed_at is not None


@pytest.mark.django_db
def test_signing_up_sends_the_confirmation_link_to_the_signup_address_in_its_language():
    data = form_data(email="Nina@Salon.example")
    assert post_signup(data, lang="de").status_code == 302
    tenant = Tenant.objects.get(slug=data["slug"])
    assert tenant.email_confirmed_at is None and tenant.language == "de"
    (message,) = mail.outbox
    assert message.to == ["nina@salon.example"]
    assert message.subject == "Bitte bestätigen Sie Ihre E-Mail-Adresse für Salon Schnittig"
    assert f"http://{data['slug']}.localhost:8000/confirm-email/" in message.body
