"""The privacy notice states exactly what the code does: every cookie the application sets, every column of
the server log and every storage period, and nothing it does not.

Each check compares two independent sources: what a walk over the pages of both hosts receives (Set-Cookie
headers), what the source code calls, what the table holds and which settings exist, against the registries
the notice is built from (termino/shared/cookies.py, accesslog/recording.py, legal/facts.py). A new cookie,
log column or retention setting without a line there fails here.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.utils import timezone

from termino.platform.accesslog import recording
from termino.platform.accesslog.models import AccessLogEntry
from termino.platform.legal import facts
from termino.platform.legal.models import DocumentKind
from termino.shared import cookies
from termino.tenants.retention.models import RetentionPolicy
from tests.conftest import PASSWORD, client_for
from tests.isolation import urlwalk
from tests.tenants.backoffice.helpers import make_user

from .conftest import current_text

pytestmark = pytest.mark.django_db

SOURCE = Path(__file__).resolve().parents[3] / "termino"


# --- Cookies ---------------------------------------------------------------------------------------------


def _received(response, into: set[str]) -> None:
    into.update(response.cookies.keys())


def _walk(client: Client, urlconf: str, into: set[str], *, skip=()) -> int:
    """GET every page of `urlconf` that needs no URL parameter; returns how many were fetched."""
    fetched = 0
    for endpoint in urlwalk.endpoints(urlconf):
        if endpoint.params or "GET" not in endpoint.methods or endpoint.route.startswith(skip):
            continue
        path = endpoint.path({})
        if any(ch in path for ch in "()[]*+?\\"):
            continue  # a regex route (the admin's catch-all)
        _received(client.get(path), into)
        fetched += 1
    return fetched


def cookies_set_by_the_application(business_a, staff_client: Client) -> set[str]:
    """Walk both hosts as a visitor and signed in, and go through every flow that sets a cookie."""
    seen: set[str] = set()
    platform = client_for(settings.BASE_DOMAIN, "en")
    business = client_for(business_a.host, "en")
    assert _walk(platform, settings.PUBLIC_SCHEMA_URLCONF, seen) > 10
    assert _walk(business, settings.ROOT_URLCONF, seen) > 30
    # Logging in (the username cookie), as owner and as a staff member, then every page again.
    owner = client_for(business_a.host, "en")
    _received(owner.get("/login/"), seen)
    _received(owner.post("/login/", {"username": business_a.owner_username, "password": PASSWORD}), seen)
    _walk(owner, settings.ROOT_URLCONF, seen, skip=("/logout",))
    staff_member = make_user(business_a, "staff")
    login = {"username": staff_member.username, "password": PASSWORD}
    _received(client_for(business_a.host).post("/login/", login), seen)
    # The language switch on both hosts, the signup form and the platform staff's pages.
    _received(platform.post("/i18n/setlang/", {"language": "de", "next": "/"}), seen)
    _received(business.post("/i18n/setlang/", {"language": "de", "next": "/"}), seen)
    _received(platform.get("/signup/"), seen)
    _walk(staff_client, settings.PUBLIC_SCHEMA_URLCONF, seen, skip=("/staff/logout", "/admin/logout"))
    return seen


def test_every_cookie_the_application_sets_is_registered_and_every_registered_one_is_set(business_a, staffed):
    _staff, staff_client = staffed
    seen = cookies_set_by_the_application(business_a, staff_client)
    registered = cookies.registered_names()
    assert seen - registered == set(), "cookies set but not in termino/shared/cookies.py (nor the notice)"
    assert registered - seen == set(), "cookies in the registry (and the notice) that nothing sets"


def test_the_walk_notices_a_cookie_nobody_registered(business_a, settings):
    """The check above is real: a page that sets an unknown cookie is caught by the same walk."""
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.platform.legal.test_consistency.TrackerMiddleware"]
    seen: set[str] = set()
    _walk(client_for(settings.BASE_DOMAIN), settings.PUBLIC_SCHEMA_URLCONF, seen)
    assert "tracker" in seen - cookies.registered_names()


class TrackerMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.set_cookie("tracker", "1")
        return response


def test_our_code_sets_cookies_only_through_the_registry():
    """Outside termino/shared/cookies.py no code calls set_cookie or writes response.cookies itself."""
    offenders = []
    pattern = re.compile(
        r"(?<!cookies)\.set_cookie\(|\.set_signed_cookie\(|\.cookies\[[^]]+\]\s*=|SimpleCookie\("
    )
    for path in SOURCE.rglob("*.py"):
        if path == SOURCE / "shared" / "cookies.py" or "migrations" in path.parts:
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if pattern.search(line):
                offenders.append(f"{path.relative_to(SOURCE.parent)}:{number}: {line.strip()}")
    assert offenders == []


def test_the_registry_refuses_a_cookie_it_does_not_list():
    with pytest.raises(cookies.UnregisteredCookie):
        cookies.set_cookie(HttpResponse(), "tracker", "1")
    response = HttpResponse()
    cookies.set_cookie(response, settings.USERNAME_COOKIE_NAME, "anna@example.org")
    assert int(response.cookies[settings.USERNAME_COOKIE_NAME]["max-age"]) == settings.USERNAME_COOKIE_AGE


def test_the_notice_states_each_registered_cookie_with_purpose_and_lifetime():
    text = current_text()
    for cookie in cookies.cookie_list():
        assert cookie.name in text and cookie.purpose in text and cookie.expiry in text
    german = current_text(language="de")
    assert "Sitzung" not in settings.SESSION_COOKIE_NAME  # the name stays the name in every language
    assert all(cookie.name in german for cookie in cookies.cookie_list())


def test_a_new_cookie_in_the_registry_appears_in_the_notice(monkeypatch):
    listed = cookies.cookie_list()
    extra = cookies.CookieInfo("consent_state", "Remembers a choice.", "30 days", max_age=30 * 86400)
    monkeypatch.setattr(cookies, "cookie_list", lambda: [*listed, extra])
    assert "consent_state" in current_text()


# --- The server log --------------------------------------------------------------------------------------


def test_every_column_of_the_access_log_is_stated_and_nothing_else():
    columns = {f.name for f in AccessLogEntry._meta.concrete_fields} - {"id"}
    assert set(recording.LOGGED_FIELDS) == columns
    mapped = set()
    for target in recording.ENTRY_KEYS.values():
        mapped.update(target if isinstance(target, tuple) else (target,))
    assert mapped == columns


def test_what_the_recorder_buffers_is_what_the_notice_knows(business_a):
    request = RequestFactory().get("/book/", HTTP_HOST=business_a.host, HTTP_USER_AGENT="Firefox/130")
    request.tenant = business_a.tenant
    entry = recording.entry_for(request, HttpResponse("x"), at=timezone.now())
    assert set(entry) == set(recording.ENTRY_KEYS)


def test_the_notice_lists_every_log_field():
    text = current_text()
    for _name, description in facts.log_fields():
        assert description in text
    assert "IP address itself is not stored" in text


# --- Storage periods -------------------------------------------------------------------------------------


def test_every_setting_that_looks_like_a_storage_period_is_stated_or_explained():
    assert facts.undeclared_retention_settings() == set()
    for name in (*facts.RETENTION_SETTINGS, *facts.NOT_RETENTION):
        assert hasattr(settings, name), f"{name} is listed in legal/facts.py but is no setting"


def test_a_new_retention_setting_without_the_notice_is_caught(settings):
    settings.INVOICE_PDF_DAYS = 30
    settings.UPLOAD_RETENTION = 7
    assert facts.undeclared_retention_settings() == {"INVOICE_PDF_DAYS", "UPLOAD_RETENTION"}


def test_each_business_retention_rule_is_described():
    assert set(RetentionPolicy().snapshot()) == set(facts.business_rule_texts())


def test_the_notice_states_each_period_with_the_value_the_clean_up_uses(settings):
    text = current_text()
    for period in facts.retention_periods():
        assert period.what in text and period.how_long in text
    for line in facts.business_retention_defaults():
        assert line in text
    assert "deleted after 14 days" in text and "after 7 days" in text and "90 days" in text


def test_a_changed_period_changes_the_notice_and_makes_a_new_version(settings):
    from termino.platform.legal.services import document_current

    before = document_current(DocumentKind.PRIVACY)
    settings.ACCESS_LOG_DAYS = 30
    after = document_current(DocumentKind.PRIVACY)
    assert after.number == before.number + 1
    assert "Entries are deleted after 30 days." in current_text()
    settings.ACCESS_LOG_DAYS = 14
    assert document_current(DocumentKind.PRIVACY).number == before.number + 2  # a change back is a change too
