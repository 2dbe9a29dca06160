"""Login audit: events for business users (their schema) and platform staff (public), the owner's log
page, and the truncation of old IP addresses."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.contrib.sessions.backends.db import SessionStore
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import schema_context

from termino.tenants.accounts import services
from termino.tenants.accounts.audit import login_event_record
from termino.tenants.accounts.models import LoginEvent
from tests.conftest import PASSWORD, client_for, password_hash
from tests.tenants.backoffice.helpers import log_in_as, make_user

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"


def events(business):
    with schema_context(business.schema):
        return list(LoginEvent.objects.order_by("id").select_related("user"))


def attempt(business, username, password, *, client=None, ip="203.0.113.7", **extra):
    client = client or client_for(business.host, "en")
    extra.setdefault("HTTP_USER_AGENT", BROWSER)
    response = client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=ip, **extra)
    return client, response


# --- Recording ---------------------------------------------------------------------------------------


def test_successful_login_and_logout_are_recorded_in_the_business(business_a, business_b):
    client, response = attempt(business_a, business_a.owner_username, PASSWORD)
    assert response.status_code == 302
    client.post("/logout/", REMOTE_ADDR="203.0.113.7")
    login, logout = events(business_a)
    with schema_context(business_a.schema):
        owner = get_user_model().objects.get(username=business_a.owner_username)
    assert (login.outcome, login.user_id, login.username) == ("success", owner.pk, business_a.owner_username)
    assert (login.ip_address, login.user_agent, login.ip_truncated) == ("203.0.113.7", BROWSER, False)
    assert (logout.outcome, logout.user_id) == ("logout", owner.pk)
    assert events(business_b) == []  # the other business's log is untouched


def test_failed_login_names_the_account_tried_and_keeps_the_generic_message(business_a):
    _client, response = attempt(business_a, business_a.owner_username.upper(), "wrong-password-1")
    assert response.status_code == 200
    assert "correct" in response.content.decode()  # the generic "enter a correct e-mail and password"
    (event,) = events(business_a)
    assert event.outcome == "failure" and event.user is not None
    assert event.username == business_a.owner_username.upper()

    attempt(business_a, "nobody@example.com", "wrong-password-1")
    unknown = events(business_a)[-1]
    assert (unknown.outcome, unknown.user, unknown.username) == ("failure", None, "nobody@example.com")


def test_user_agent_is_cut_to_300_characters(business_a):
    attempt(business_a, business_a.owner_username, "wrong-password-1", HTTP_USER_AGENT="x" * 1000)
    assert len(events(business_a)[0].user_agent) == 300


@override_settings(AXES_FAILURE_LIMIT=3)
def test_lockout_is_one_event_per_attempt(business_a):
    for _ in range(3):
        attempt(business_a, business_a.owner_username, "wrong-password-1")
    _client, response = attempt(business_a, business_a.owner_username, PASSWORD)
    assert response.status_code == 429
    outcomes = [event.outcome for event in events(business_a)]
    # Two failures, the third trips the lockout, and the right password while locked out is refused.
    assert outcomes == ["failure", "failure", "locked_out", "locked_out"]
    assert all(event.user is not None for event in events(business_a))


@override_settings(NUM_PROXIES=1)
def test_the_recorded_ip_is_the_one_our_proxy_saw(business_a):
    attempt(
        business_a,
        business_a.owner_username,
        PASSWORD,
        ip="10.0.0.2",
        HTTP_X_FORWARDED_FOR="1.1.1.1, 198.51.100.4",
    )
    assert events(business_a)[0].ip_address == "198.51.100.4"


def test_platform_staff_logins_are_recorded_in_public(rf, business_a):
    staff = get_user_model().objects.create(
        username="ops-audit@termino.example",
        email="ops-audit@termino.example",
        is_staff=True,
        password=password_hash(),
    )
    # A wrong password at the staff login (the platform's host, schema public) ...
    client_for(settings.BASE_DOMAIN, "en").post(
        "/staff/login/",
        {"username": staff.username, "password": "wrong-password-1"},
        REMOTE_ADDR="198.51.100.5",
    )
    # ... and a completed staff login, which ends in Django's login() after the TOTP step.
    request = rf.post("/staff/login/code/", REMOTE_ADDR="198.51.100.5")
    request.session = SessionStore()
    login(request, staff, backend="django.contrib.auth.backends.ModelBackend")
    public = list(LoginEvent.objects.order_by("id").values_list("outcome", "user_id", "ip_address"))
    assert public == [("failure", staff.pk, "198.51.100.5"), ("success", staff.pk, "198.51.100.5")]
    assert events(business_a) == []


def test_login_event_record_is_there_for_other_login_views(rf, business_a):
    """The staff admin's TOTP step decides logins without Django's signals; it calls this itself."""
    staff = get_user_model().objects.create(username="ops-totp@termino.example", is_staff=True)
    request = rf.post("/staff/login/code/", REMOTE_ADDR="198.51.100.6", HTTP_USER_AGENT=BROWSER)
    event = login_event_record(request=request, username=staff.username, user=None, outcome="failure")
    assert (event.user, event.ip_address, event.user_agent) == (staff, "198.51.100.6", BROWSER)
    with pytest.raises(ValueError):
        login_event_record(request=request, username=staff.username, user=staff, outcome="maybe")


# --- Truncating old addresses ------------------------------------------------------------------------


def test_ips_older_than_the_cutoff_are_cut_to_their_network_once(business_a):
    cutoff = timezone.now() - timedelta(days=settings.LOGIN_IP_DAYS)
    with schema_context(business_a.schema):
        make = LoginEvent.objects.create
        older_v4 = make(
            outcome="success", ip_address="203.0.113.77", created_at=cutoff - timedelta(microseconds=1)
        )
        older_v6 = make(
            outcome="failure", ip_address="2001:db8:abcd:12::1", created_at=cutoff - timedelta(days=3)
        )
        at_cutoff = make(outcome="success", ip_address="203.0.113.78", created_at=cutoff)
        recent = make(outcome="success", ip_address="198.51.100.9")
        no_ip = make(outcome="failure", ip_address=None, created_at=cutoff - timedelta(days=1))

        assert services.login_ips_truncate(older_than=cutoff) == 2
        assert services.login_ips_truncate(older_than=cutoff) == 0  # idempotent
        for event in (older_v4, older_v6, at_cutoff, recent, no_ip):
            event.refresh_from_db()
        assert (older_v4.ip_address, older_v4.ip_truncated) == ("203.0.113.0", True)
        assert (older_v6.ip_address, older_v6.ip_truncated) == ("2001:db8:abcd::", True)
        assert (at_cutoff.ip_address, at_cutoff.ip_truncated) == ("203.0.113.78", False)
        assert (recent.ip_address, recent.ip_truncated) == ("198.51.100.9", False)
        assert (no_ip.ip_address, no_ip.ip_truncated) == (None, False)


def test_truncation_stays_in_its_schema(business_a, business_b):
    old = timezone.now() - timedelta(days=30)
    for business in (business_a, business_b):
        with schema_context(business.schema):
            LoginEvent.objects.create(outcome="success", ip_address="203.0.113.77", created_at=old)
    with schema_context(business_a.schema):
        assert services.login_ips_truncate(older_than=timezone.now()) == 1
    with schema_context(business_b.schema):
        assert LoginEvent.objects.get().ip_address == "203.0.113.77"


# --- The owner's log page ----------------------------------------------------------------------------


def test_owner_sees_the_log_with_full_ips_only_while_they_are_kept(business_a):
    client = log_in_as(business_a, "owner")
    old = timezone.now() - timedelta(days=settings.LOGIN_IP_DAYS, minutes=1)
    with schema_context(business_a.schema):
        LoginEvent.objects.create(
            outcome="failure", username="mallory@example.com", ip_address="198.51.100.23"
        )
        LoginEvent.objects.create(
            outcome="success", username="x@example.com", ip_address="192.0.2.55", created_at=old
        )
        LoginEvent.objects.create(
            outcome="success",
            username="y@example.com",
            ip_address="192.0.2.0",
            ip_truncated=True,
            created_at=old,
        )
    response = client.get("/account/logins/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "mallory@example.com" in page and "198.51.100.23" in page
    assert "192.0.2.55" not in page and page.count("192.0.2.0/24") == 2  # untruncated but old: shown cut
    assert business_a.owner_username in page  # the owner's own login by log_in_as


def test_log_filters_by_outcome_and_pages(business_a):
    client = log_in_as(business_a, "owner")
    with schema_context(business_a.schema):
        LoginEvent.objects.bulk_create(
            LoginEvent(outcome="failure", username=f"guess{n}@example.com") for n in range(60)
        )
    failures = client.get("/account/logins/?outcome=failure")
    assert failures.status_code == 200
    assert failures.context["page_obj"].paginator.count == 60
    assert "Page 1 of 2" in failures.content.decode()
    second = client.get("/account/logins/?outcome=failure&page=2")
    assert len(second.context["rows"]) == 10
    successes = client.get("/account/logins/?outcome=success")
    assert {row[0].outcome for row in successes.context["rows"]} == {"success"}
    # An unknown filter value is ignored rather than answered with an error page.
    assert client.get("/account/logins/?outcome=bogus").context["page_obj"].paginator.count == 61


@pytest.mark.parametrize("role", ["manager", "staff"])
def test_only_the_owner_may_see_the_log(business_a, role):
    assert log_in_as(business_a, role).get("/account/logins/").status_code == 403


def test_anonymous_and_other_businesses_are_sent_to_log_in(business_a, business_b):
    assert client_for(business_a.host).get("/account/logins/")["Location"].startswith("/login/")
    b_owner = log_in_as(business_b, "owner")
    response = b_owner.get("/account/logins/", HTTP_HOST=business_a.host)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_each_owner_sees_only_their_own_business(business_a, business_b):
    with schema_context(business_b.schema):
        LoginEvent.objects.create(outcome="failure", username="only-at-b@example.com")
    make_user(business_a, "staff")
    page = log_in_as(business_a, "owner").get("/account/logins/").content.decode()
    assert "only-at-b@example.com" not in page
    assert "only-at-b@example.com" in log_in_as(business_b, "owner").get("/account/logins/").content.decode()
